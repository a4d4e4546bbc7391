import assert from "node:assert/strict";
import { z } from "zod";
import { openDb } from "../db/open.ts";
import { COLLECTORS } from "../agent/collectors/mod.ts";
import { uiCollectors } from "./collectors.ts";
import { createApi } from "./api.ts";
import { startWorld } from "./testdata/world.ts";

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  parameters: { name: string; in: string; required: boolean; schema: Json; example?: unknown }[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<string, { content: Record<string, { schema?: Json; example?: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** The API with every collector there is, and its document (asked for as a client would). */
async function everything() {
  const opened = await openDb(":memory:");
  const api = createApi({ db: opened.db, collectors: uiCollectors(COLLECTORS) });
  const r = await api.request("/openapi.json");
  assert.equal(r.status, 200);
  const doc = await r.json() as Doc;
  return { api, doc, close: () => opened.close() };
}

/** A JSON Schema of the document, read back by zod's own JSON Schema reader (not the code that wrote it). */
const reader = (schema: Json) => z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema);

Deno.test("openapi: every registered route is in the document with its method, and nothing else is", async () => {
  const { api, doc, close } = await everything();
  try {
    assert.equal(doc.openapi, "3.1.0");
    const registered = new Set<string>();
    for (const r of api.routes) {
      if (r.path === "/*") continue; // the 404 of unknown routes
      registered.add(`${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    }
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    assert.deepEqual([...registered].sort(), [...documented].sort());
    // Each collector's inventory and its export, the documents's own route, and the page's writes.
    for (const c of COLLECTORS) {
      assert.ok(documented.has(`get /inventory/${c.name}`), c.name);
      assert.ok(documented.has(`get /export/inventory/${c.name}`), c.name);
    }
    for (const op of ["get /openapi.json", "post /acks", "post /scan", "get /content/{checksum}"]) {
      assert.ok(documented.has(op), op);
    }
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    assert.equal(new Set(ids).size, ids.length, "operation ids are unique");
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        for (const op of Object.values(ops)) {
          assert.ok(
            op.parameters.some((p) => p.in === "path" && p.required && `{${p.name}}` === name),
            `${path}: ${name} declared`,
          );
        }
      }
    }
  } finally {
    await close();
  }
});

Deno.test("openapi: the document's examples validate against its own schemas, and bad ones do not", async () => {
  const { doc, close } = await everything();
  try {
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        for (const p of op.parameters) {
          if (p.example === undefined) continue;
          const r = reader(p.schema).safeParse(p.example);
          assert.ok(r.success, `${where} parameter ${p.name}: ${JSON.stringify(r.error?.issues)}`);
          checked++;
        }
        const body = op.requestBody?.content["application/json"];
        if (body) {
          assert.notEqual(body.example, undefined, `${where}: a body example`);
          const r = reader(body.schema).safeParse(body.example);
          assert.ok(r.success, `${where} body: ${JSON.stringify(r.error?.issues)}`);
          checked++;
        }
        const ok = op.responses["200"]?.content["application/json"];
        if (ok?.schema) {
          assert.notEqual(ok.example, undefined, `${where}: an example answer`);
          const r = reader(ok.schema).safeParse(ok.example);
          assert.ok(r.success, `${where} answer: ${JSON.stringify(r.error?.issues)}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `${checked} examples checked`);
    // The schemas read back are real checks: a wrong example fails them.
    const status = doc.paths["/status"].get.responses["200"].content["application/json"];
    assert.ok(!reader(status.schema!).safeParse({ ...status.example as Json, health: "fine" }).success);
    const inv = doc.paths["/inventory/files"].get.parameters.find((p) => p.name === "sort")!;
    assert.ok(!reader(inv.schema).safeParse("Nonexistent").success);
    const acks = doc.paths["/acks"].post.requestBody!.content["application/json"];
    assert.ok(!reader(acks.schema).safeParse({ ...acks.example as Json, extra: 1 }).success);
  } finally {
    await close();
  }
});

Deno.test("openapi: a real agent's answers to every JSON route match what the document says", async () => {
  const w = await startWorld();
  try {
    const host = `127.0.0.1:${w.ui.listen.port}`;
    const cookie = `${w.ui.auth!.cookieName()}=${w.ui.auth!.newSession()}`;
    const ask = (path: string, init: RequestInit = {}) =>
      w.ui.request(`/api${path}`, { ...init, headers: { host, cookie, ...init.headers } });
    const doc = await (await ask("/openapi.json")).json() as Doc & Json;
    assert.deepEqual(
      (doc.components as Json & { securitySchemes: { session: { name: string } } })
        .securitySchemes.session.name,
      w.ui.auth!.cookieName(),
    );
    // Real parameters where the examples name things this world does not have.
    const file = `${w.tree}/etc/app.conf`;
    const item = await (await ask(`/item?collector=files&key=${encodeURIComponent(file)}`)).json();
    const sum = item.contents[0] as string;
    const real: Record<string, string> = {
      "/content/{checksum}": `/content/${sum}?key=${encodeURIComponent(file)}`,
      "/diff": `/diff?from=${sum}&to=${sum}&key=${encodeURIComponent(file)}`,
      "/item": `/item?collector=files&key=${encodeURIComponent(file)}`,
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      const answer = op?.responses["200"].content["application/json"];
      if (!answer?.schema) continue;
      const example = Object.fromEntries(
        op.parameters.filter((p) => p.in === "query" && p.example !== undefined)
          .map((p) => [p.name, String(p.example)]),
      );
      const url = real[path] ?? `${path}?${new URLSearchParams(example)}`;
      const r = await ask(url);
      assert.equal(r.status, 200, `${url}: ${await r.clone().text()}`);
      const body = await r.json();
      const checkedBy = reader(answer.schema).safeParse(body);
      assert.ok(checkedBy.success, `${url}: ${JSON.stringify(checkedBy.error?.issues.slice(0, 3))}`);
      checked++;
    }
    assert.ok(checked >= 10, `${checked} answers checked`);
    // The writes too: a scan that stores a change, and that change acknowledged.
    await Deno.writeTextFile(`${w.tree}/etc/new.conf`, "new = 1\n");
    const change = () =>
      (w.opened.raw.prepare("select max(id) as id from changes").get() as { id: number }).id;
    for (
      const [path, body] of [["/scan", () => ({ collector: "files" })], [
        "/acks",
        () => ({ changeIds: [change()], reviewer: "t" }),
      ]] as const
    ) {
      const r = await ask(path, {
        method: "POST",
        body: JSON.stringify(body()),
        headers: {
          "content-type": "application/json",
          origin: `http://${host}`,
          "x-ctagent-token": w.ui.token,
          "sec-fetch-site": "same-origin",
        },
      });
      assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
      const schema = doc.paths[path].post.responses["200"].content["application/json"].schema!;
      const checkedBy = reader(schema).safeParse(await r.json());
      assert.ok(checkedBy.success, `${path}: ${JSON.stringify(checkedBy.error?.issues.slice(0, 3))}`);
    }
  } finally {
    await w.close();
  }
});
