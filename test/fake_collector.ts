// A collector made up for a test: a whole spec with plain defaults, the test giving what it cares about.
import type { Collector, Item } from "../agent/collectors/types.ts";

/**
 * A collector named `name` (any `[a-z][a-z0-9_]*`) on Linux and Windows, on by ctagent's own settings every
 * 60 s, keyed by its `Name` field, collecting nothing; `over` replaces any of that.
 */
export function fakeCollector(name: string, over: Partial<Collector> = {}): Collector {
  return {
    name,
    label: name,
    nouns: ["item", "items"],
    platforms: ["linux", "windows"],
    schedule: { dcr: null, setting: name, defaultSeconds: 60 },
    dataType: { linux: "Test", windows: "Test" },
    toAma: true,
    key: (i: Item) => String(i.Name),
    nameField: "Name",
    volatile: [],
    columns: [{ field: "Name", label: "Name" }],
    mirror: null,
    content: false,
    page: { icon: "T", shortcut: "t", color: ["#000000", "#ffffff"], empty: "Nothing yet." },
    collect: () => Promise.resolve({ items: [] }),
    ...over,
  };
}
