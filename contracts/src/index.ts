export * from "./intervals.js";
export * from "./typedData.js";
export * from "./abis.js";
