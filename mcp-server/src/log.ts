export * from "../../common/log.js";
