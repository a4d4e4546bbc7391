import assert from "node:assert/strict";
import { SUBTREE_MIN_ITEMS, Subtrees } from "./subtrees.ts";

const LAST = {
  c: [
    ["/t/b", "db", 40],
    ["/t", "dt", 200],
    ["/t/a", "da", 100],
    ["/t/a/in", "din", 60],
    ["/t/a-z", "daz", 40],
    ["/u", "du", 50],
  ],
  other: [["/t", "x", 999]],
};

Deno.test("Subtrees: what a walk finds kept is the last run's of its context only", () => {
  const s = new Subtrees(LAST);
  const h = s.walk("c", () => true);
  assert.deepEqual(h.kept("/t/a"), ["da", 100]);
  assert.deepEqual(h.kept("/t"), ["dt", 200]);
  assert.equal(h.kept("/t/a/in/deeper"), undefined);
  assert.equal(s.walk("none", () => true).kept("/t"), undefined);
  assert.deepEqual(s.walk("other", () => true).kept("/t"), ["x", 999]);
});

Deno.test("Subtrees: one gone past keeps it and every subtree kept under it, nothing beside it", () => {
  const s = new Subtrees(LAST);
  const said: [string, number][] = [];
  const h = s.walk("c", (prefix, n) => (said.push([prefix, n]), true));
  assert.equal(h.skipped("/t/a", 100), true);
  assert.deepEqual(said, [["/t/a/", 100]]);
  // "/t/a-z" sorts between "/t/a" and "/t/a/in" by path, not by the prefix each stands for: not under /t/a.
  assert.deepEqual(s.kept(), { c: [["/t/a", "da", 100], ["/t/a/in", "din", 60]] });
});

Deno.test("Subtrees: a sink that cannot say them the same keeps nothing of it", () => {
  const s = new Subtrees(LAST);
  const h = s.walk("c", () => false);
  assert.equal(h.skipped("/t/a", 100), false);
  assert.equal(s.kept(), null);
});

Deno.test("Subtrees: walked ones are kept from SUBTREE_MIN_ITEMS items, but none that holds an item not stored whole", () => {
  const s = new Subtrees(null);
  const h = s.walk("c", () => true);
  h.walked("/r/x/y", "d1", SUBTREE_MIN_ITEMS);
  h.walked("/r/x/small", "d2", SUBTREE_MIN_ITEMS - 1);
  h.walked("/r/x", "d3", 500);
  h.walked("/r/z", "d4", 100);
  h.walked("/r", "d5", 700);
  assert.deepEqual(s.kept(), {
    c: [["/r", "d5", 700], ["/r/x", "d3", 500], ["/r/x/y", "d1", SUBTREE_MIN_ITEMS], ["/r/z", "d4", 100]],
  });
  s.unclean("/r/x/y/broken");
  assert.deepEqual(s.kept(), { c: [["/r/z", "d4", 100]] });
});

Deno.test("Subtrees: what the last run left that is not kept subtrees is none", () => {
  for (
    const junk of [null, 1, "x", [], { c: "x" }, { c: [["/t", "d"]] }, { c: [["/t", "d", -1]] }, {
      c: [["/t", 1, 2]],
    }]
  ) {
    assert.equal(new Subtrees(junk).walk("c", () => true).kept("/t"), undefined, JSON.stringify(junk));
  }
});
