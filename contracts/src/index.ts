export * from "./intervals.js";
export * from "./typedData.js";
