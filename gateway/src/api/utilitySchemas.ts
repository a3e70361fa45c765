/** Response schemas of the utility endpoints, named as they appear in the OpenAPI document. */
export const utilityComponentSchemas = {} as const;
