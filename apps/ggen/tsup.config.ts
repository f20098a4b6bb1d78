export { default } from "../../tsup.app";
