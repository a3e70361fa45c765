/** The agent runs on the shared GridMesh clock (real, or scaled for demos and tests). */
export {
  type Clock as AgentClock,
  atClockTime,
  configuredClock,
  realClock,
  scaledClock,
} from "@gridmesh/contracts";
