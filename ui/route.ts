// An API route declared once: its path and query parameters, body and answers as zod schemas, which check every
// request it gets (mount) and make its part of the OpenAPI document (openapi.ts).
import * as z from "../agent/zod.ts";
import type { Context, Hono } from "hono";

/** What a route answers with one status: a JSON body of `schema`, or a body of another media `type`. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Media type (default application/json). */
  type?: string;
}

// deno-lint-ignore no-explicit-any
type AnyObject = z.ZodObject<any>;
const NONE = z.strictObject({});
type None = typeof NONE;

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: "get" | "post";
  /** In Hono's form: `/content/:checksum`. */
  path: string;
  summary: string;
  description?: string;
  /** The path's parameters (strings in, whatever the schema makes of them out). */
  params?: P;
  /** The query's parameters, each a string (a name not in the schema is refused, naming the ones there are). */
  query?: Q;
  /** A JSON body; `bodyOptional`: a request without one reads as `{}`. */
  body?: B;
  bodyOptional?: boolean;
  answers: Record<number, Answer>;
  /** A request this route answers with 200, and that answer (both in the document, both checked by a test). */
  example: {
    params?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    /** The 200 answer to it (absent for a media type other than JSON). */
    answer?: unknown;
  };
  handle(
    c: Context,
    input: { params: z.output<P>; query: z.output<Q>; body: z.output<B> },
  ): Response | Promise<Response>;
}

/** A declared route, its input types forgotten (a list holds routes of every shape). */
export type Route = RouteSpec<AnyObject, AnyObject, z.ZodType>;

/** Declares a route (the helper only infers the handler's input types from the schemas). */
export function route<
  P extends AnyObject = None,
  Q extends AnyObject = None,
  B extends z.ZodType = z.ZodUnknown,
>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

/**
 * The first problem zod found, as one sentence naming where: a message that starts with its parameter's name
 * ("errors must be 0 or 1, …") is kept as written, others get the name in front ("limit: …").
 */
export function problem(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  const name = issue.path.map(String).join(".");
  const last = String(issue.path[issue.path.length - 1] ?? "");
  return !name || (last && issue.message.startsWith(last)) ? issue.message : `${name}: ${issue.message}`;
}

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  // RangeError: the API answers 400 with the message.
  if (!r.success) throw new RangeError(problem(r.error.issues));
  return r.data;
}

/** The query's parameters as one object of their first values; an empty value counts as not given. */
function queryOf(c: Context, schema: AnyObject | undefined): Record<string, string> {
  const url = new URL(c.req.url);
  const allowed = Object.keys(schema?.shape ?? {});
  const out: Record<string, string> = {};
  for (const name of new Set(url.searchParams.keys())) {
    if (!allowed.includes(name)) {
      throw new RangeError(
        `Unknown parameter ${JSON.stringify(name)} for ${c.req.path}: expected ${
          allowed.length ? `one of ${allowed.join(", ")}` : "none"
        }`,
      );
    }
    const v = url.searchParams.get(name)!;
    if (v !== "") out[name] = v;
  }
  return out;
}

async function bodyOf(c: Context, r: Route): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim() && r.bodyOptional) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError(`the body must be JSON${r.bodyOptional ? " (or empty)" : ""}`);
  }
}

/** Adds `routes` to `app`: each request is checked against its route's schemas before its handler sees it. */
export function mount(app: Hono, routes: readonly Route[]): void {
  for (const r of routes) {
    app[r.method](r.path, async (c) => {
      const params = parsed(r.params ?? NONE, c.req.param());
      const query = parsed(r.query ?? NONE, queryOf(c, r.query));
      const body = r.body ? parsed(r.body, await bodyOf(c, r)) : undefined;
      return await r.handle(c, { params, query, body });
    });
  }
}

/** `/content/:checksum` as OpenAPI writes it: `/content/{checksum}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}
