export { ChaincodeEventLog, type ChaincodeEventLogStatus } from "./chaincodeEventLog.js";
export { IdentityError, type IdentityErrorKind } from "./identityError.js";
export { IdentityService, type IdentityServiceParameters } from "./identityService.js";
export { openSecureIdConnection, type SecureIdConnection } from "./secureIdConnection.js";
export { startIdentityService, type StartIdentityServiceParameters } from "./startIdentityService.js";
