import { describe, expect, it } from "vitest";
import { camelCase, constantCase, kebabCase, pascalCase, snakeCase, titleCase, words } from "./cases.js";
import { pluralize, singularize } from "./inflect.js";

describe("cases", () => {
  it("splits words the same way for every spelling", () => {
    for (const s of ["OrderLine", "orderLine", "order_line", "order-line", "order line", "ORDER_LINE"]) {
      expect(words(s).map((w) => w.toLowerCase())).toEqual(["order", "line"]);
    }
    expect(words("HTTPServer2Go")).toEqual(["HTTP", "Server2", "Go"]);
  });
  it("converts", () => {
    expect(camelCase("order line")).toBe("orderLine");
    expect(pascalCase("order_line")).toBe("OrderLine");
    expect(snakeCase("OrderLine")).toBe("order_line");
    expect(kebabCase("OrderLine")).toBe("order-line");
    expect(constantCase("orderLine")).toBe("ORDER_LINE");
    expect(titleCase("order-line")).toBe("Order Line");
    expect(camelCase("")).toBe("");
  });
});

describe("inflector", () => {
  const pairs: [string, string][] = [
    ["customer", "customers"],
    ["address", "addresses"],
    ["category", "categories"],
    ["box", "boxes"],
    ["person", "people"],
    ["child", "children"],
    ["day", "days"],
    ["leaf", "leaves"],
    ["knife", "knives"],
    ["status", "statuses"],
    ["analysis", "analyses"],
    ["batch", "batches"],
    ["OrderLine", "OrderLines"],
    ["order_line", "order_lines"],
    ["Person", "People"],
    ["hero", "heroes"],
    ["cactus", "cacti"],
    ["shipment", "shipments"],
    ["payment", "payments"],
    ["review", "reviews"],
    ["inventory", "inventory"],
  ];
  it.each(pairs)("%s <-> %s", (one, many) => {
    expect(pluralize(one)).toBe(many);
    expect(singularize(many)).toBe(one);
  });
  it("keeps words already in the requested form", () => {
    expect(pluralize("orders")).toBe("orders");
    expect(pluralize("categories")).toBe("categories");
    expect(singularize("order")).toBe("order");
    expect(singularize("address")).toBe("address");
    expect(singularize("status")).toBe("status");
  });
});
