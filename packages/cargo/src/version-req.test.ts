import { describe, expect, it } from "vitest";
import { cargoReqToRange, satisfiesCargoReq } from "./version-req.js";

describe("Cargo version requirements", () => {
  it("reads a bare version as a caret requirement, like Cargo (npm would read it as exact)", () => {
    expect(cargoReqToRange("1")).toBe("^1");
    expect(satisfiesCargoReq("1.9.0", "1.2.3")).toBe(true);
    expect(satisfiesCargoReq("2.0.0", "1.2.3")).toBe(false);
    expect(satisfiesCargoReq("0.4.23", "0.4")).toBe(true);
    expect(satisfiesCargoReq("0.5.0", "0.4")).toBe(false);
  });

  it("joins comma-separated comparators, with or without a space after the operator", () => {
    expect(cargoReqToRange(">= 0.6.14, < 1.0.0")).toBe(">=0.6.14 <1.0.0");
    expect(satisfiesCargoReq("0.6.14", ">= 0.6.14, < 1.0.0")).toBe(true);
    expect(satisfiesCargoReq("1.0.0", ">= 0.6.14, < 1.0.0")).toBe(false);
    expect(satisfiesCargoReq("0.2.3", "=0.2.3")).toBe(true);
    expect(satisfiesCargoReq("0.2.4", "=0.2.3")).toBe(false);
    expect(satisfiesCargoReq("1.13.0", "<= 1.13.0, >= 0.1.14")).toBe(true);
  });

  it("knows tilde, wildcards and rejects what is not a requirement", () => {
    expect(satisfiesCargoReq("1.2.9", "~1.2")).toBe(true);
    expect(satisfiesCargoReq("1.3.0", "~1.2")).toBe(false);
    expect(satisfiesCargoReq("1.7.3", "1.*")).toBe(true);
    expect(satisfiesCargoReq("4.2.0", "*")).toBe(true);
    expect(cargoReqToRange("")).toBeUndefined();
    expect(cargoReqToRange(">= banana")).toBeUndefined();
    expect(satisfiesCargoReq("not-a-version", "1")).toBe(false);
  });
});
