export * from "./clock.js";
export * from "./intervals.js";
export * from "./typedData.js";
export * from "./abis.js";
export * from "./readingWire.js";
export * from "./clearing/index.js";
export * from "./meterCommands.js";
export * from "./revertData.js";
