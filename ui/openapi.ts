// The OpenAPI 3.1 document of the page's API, made from the schemas its routes check requests with (route.ts).
import * as z from "../agent/zod.ts";
import { type Answer, openApiPath, type Route } from "./route.ts";
import { ErrorAnswer } from "./api_schema.ts";

type Json = Record<string, unknown>;

/** A zod schema as the JSON Schema (2020-12, OpenAPI 3.1's dialect) of what is sent (`input`) or answered. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, reused: "inline", unrepresentable: "any" });
  return rest;
}

/** `get /inventory/software` → `getInventorySoftware`. */
function operationId(r: Route): string {
  const words = r.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return r.method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** The parameters of one place (path or query) of a route, from its schema, each with its example value. */
function parameters(
  schema: z.ZodObject | undefined,
  where: "path" | "query",
  example?: Record<string, string>,
) {
  if (!schema) return [];
  const js = jsonSchema(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (js.required ?? []).includes(name),
    ...(typeof s.description === "string" ? { description: s.description } : {}),
    schema: s,
    ...(example?.[name] !== undefined ? { example: example[name] } : {}),
  }));
}

export interface DocumentInfo {
  version: string;
  /** "off": the agent runs with --no-auth, nothing is asked for. */
  auth: "token" | "off";
  /** The session cookie's name (it carries the port). */
  cookieName?: string;
}

export function openApiDocument(routes: readonly Route[], info: DocumentInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const signedIn = info.auth === "off" ? [] : [{ session: [] }, { bearer: [] }];
  for (const r of routes) {
    const op: Json = {
      operationId: operationId(r),
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      parameters: [
        ...parameters(r.params, "path", r.example.params),
        ...parameters(r.query, "query", r.example.query),
      ],
    };
    if (r.body) {
      op.requestBody = {
        required: !r.bodyOptional,
        content: { "application/json": { schema: jsonSchema(r.body, "input"), example: r.example.body } },
      };
    }
    const responses: Record<string, Json> = {};
    const answers: Record<number, Answer> = {
      ...r.answers,
      400: r.answers[400] ?? { description: "a parameter or the body is wrong (the error names it)" },
    };
    if (info.auth !== "off") {
      answers[401] = { description: "no session: sign in first" };
      answers[429] = {
        description: "too many failed sign-ins from this address: try again after Retry-After",
      };
    }
    for (const [status, a] of Object.entries(answers)) {
      const type = a.type ?? "application/json";
      const schema = a.schema ?? (type === "application/json" ? ErrorAnswer : undefined);
      const example = status === "200" && r.example.answer !== undefined ? { example: r.example.answer } : {};
      responses[status] = {
        description: a.description,
        content: { [type]: schema ? { schema: jsonSchema(schema, "output"), ...example } : {} },
      };
    }
    op.responses = responses;
    if (r.method === "post") {
      op.security = signedIn.length ? signedIn.map((s) => ({ ...s, writeToken: [] })) : [{ writeToken: [] }];
      op.description = [
        r.description,
        "A write: it needs the page's write token in X-CTAgent-Token and an Origin of this server's own.",
      ].filter(Boolean).join(" ");
    }
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "ctagent local page API",
      version: info.version,
      description: "What the agent's local page reads and writes: inventory, changes, their history and " +
        "reviews, exports, the agent's status. Times are epoch milliseconds (UTC) unless a parameter says " +
        "otherwise.",
    },
    servers: [{ url: "/api" }],
    security: signedIn,
    components: {
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: info.cookieName ?? "ctagent_PORT",
          description: "The session cookie a browser gets by opening the address `ctagent page-url` prints",
        },
        bearer: { type: "http", scheme: "bearer", description: "The page token (`ctagent page-url`)" },
        writeToken: {
          type: "apiKey",
          in: "header",
          name: "X-CTAgent-Token",
          description: "The page's write token (in the page's ctagent-token meta tag)",
        },
      },
    },
    paths,
  };
}
