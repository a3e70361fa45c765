import { z } from "zod";

import type { Route } from "./route.js";
import { componentSchemas } from "./schemas.js";

type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "a parameter or the body is invalid; `issues` names each bad field",
  401: "missing or wrong operator token, or customer wallet token",
  404: "no such resource",
  409: "the resource is not in a state that allows this",
  413: "body too large",
  415: "body is not application/json",
  500: "internal error (logged; details are not disclosed)",
  503: "the database is unavailable",
};

/**
 * The OpenAPI 3.1 document of `routes`, generated from the zod schemas the router parses requests
 * with and the response schemas, in their input form: the JSON on the wire, strings for every
 * uint. Named schemas become components and are referenced, so shared shapes are defined once.
 */
export function openApiDocument(routes: readonly Route[]): JsonSchema {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  for (const [name, schema] of Object.entries(componentSchemas)) {
    registry.add(schema, { id: name });
    names.set(schema, name);
  }
  const { schemas } = z.toJSONSchema(registry, {
    io: "input",
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const components = Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, bare(s)]));
  const schemaOf = (schema: z.ZodType): JsonSchema => {
    const name = names.get(schema);
    return name === undefined ? bare(z.toJSONSchema(schema, { io: "input" })) : ref(name);
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const errors = [400, ...(route.operator || route.customer ? [401] : []), ...(route.errors ?? []), 500];
    const responses: Record<string, unknown> = {
      200: {
        description: "OK",
        content: { [route.responseType ?? "application/json"]: { schema: ref(route.response) } },
      },
    };
    for (const status of [...new Set(errors)].sort((a, b) => a - b)) {
      responses[status] = {
        description: ERROR_DESCRIPTIONS[status] ?? "error",
        content: { "application/json": { schema: ref("Error") } },
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: operationId(route),
      summary: route.summary,
      ...(route.description === undefined ? {} : { description: route.description }),
      tags: [route.tag],
      parameters: [...parametersOf(route.params, "path"), ...parametersOf(route.query, "query")],
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { "application/json": { schema: schemaOf(route.body) } },
            },
          }),
      responses,
      ...(route.operator ? { security: [{ operatorToken: [] }] } : {}),
      ...(route.customer ? { security: [{ customerWallet: [] }] } : {}),
    };
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "GridMesh gateway API",
      version: "1",
      description:
        "Order books, clearings, trades, settlements, readings and devices as the gateway has indexed " +
        "them. Every uint64/uint256 is a decimal string; addresses are lower-case. Lists take `limit` " +
        "and the opaque `cursor` of the previous page's `nextCursor`.",
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        operatorToken: { type: "http", scheme: "bearer" },
        customerWallet: {
          type: "http",
          scheme: "GridMesh-Wallet",
          description:
            "base64url JSON { account, expires, signature }: the account's EIP-712 CustomerAccess " +
            '(domain "GridMesh Gateway" v1 and the chain id; scope "read my account"), valid at most a day',
        },
      },
    },
  };
}

function parametersOf(schema: z.ZodType, where: "path" | "query"): JsonSchema[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const json = bare(z.toJSONSchema(field, { io: "input" }));
    const { description, ...fieldSchema } = json;
    return {
      name,
      in: where,
      required: where === "path" || !field.safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

/** `GET /v1/clearings/{interval}` → `getClearingsInterval`. */
function operationId(route: Route): string {
  const words = route.path
    .split("/")
    .slice(2)
    .flatMap((part) => part.replace(/[{}]/g, "").split(/[^A-Za-z0-9]+/))
    .filter((w) => w !== "");
  return route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Drops the dialect and id keys the converter adds at top level: OpenAPI 3.1 sets the dialect. */
function bare({ $schema: _schema, $id: _id, ...rest }: JsonSchema): JsonSchema {
  return rest;
}
