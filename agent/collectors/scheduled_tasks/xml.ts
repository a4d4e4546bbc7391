// A small XML reader for Task Scheduler definitions: elements, attributes, text, the five entities and character
// references, CDATA, comments and processing instructions, in one linear pass. No DTD, no external anything.

export interface XmlElement {
  /** The local name (a namespace prefix dropped). */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

const MAX_DEPTH = 64;
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const NAME = /[A-Za-z_:\u00c0-\uffff][-A-Za-z0-9._:\u00b7\u00c0-\uffff]*/y;

function fail(xml: string, at: number, what: string): never {
  const line = xml.slice(0, at).split("\n").length;
  throw new TypeError(`Cannot parse XML: line ${line}: ${what}`);
}

function decode(xml: string, text: string, at: number): string {
  return text.replace(/&([^;&<\s]{1,10});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) fail(xml, at, "a & that starts no reference");
    if (ref[0] === "#") {
      const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) {
        fail(xml, at, `bad character reference ${whole}`);
      }
      return String.fromCodePoint(code);
    }
    if (!Object.hasOwn(ENTITIES, ref)) fail(xml, at, `unknown entity ${whole}`);
    return ENTITIES[ref];
  });
}

const local = (name: string) => name.slice(name.indexOf(":") + 1);

/** The document's root element. Throws a TypeError naming the line for anything that is not well-formed. */
export function parseXml(xml: string): XmlElement {
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipTo = (end: string, what: string) => {
    const j = xml.indexOf(end, i);
    if (j < 0) fail(xml, i, `${what} never ends`);
    i = j + end.length;
  };
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > i) {
      const text = xml.slice(i, textEnd);
      if (stack.length) stack[stack.length - 1].text += decode(xml, text, i);
      else if (text.trim()) fail(xml, i, "text outside the root element");
      i = textEnd;
      continue;
    }
    if (xml.startsWith("<!--", i)) skipTo("-->", "a comment");
    else if (xml.startsWith("<?", i)) skipTo("?>", "a processing instruction");
    else if (xml.startsWith("<![CDATA[", i)) {
      const j = xml.indexOf("]]>", i);
      if (j < 0 || !stack.length) fail(xml, i, "a CDATA section outside an element or never ending");
      stack[stack.length - 1].text += xml.slice(i + 9, j);
      i = j + 3;
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      const j = xml.indexOf(">", i);
      if (j < 0 || xml.slice(i, j).includes("[")) fail(xml, i, "a DOCTYPE with declarations is not read");
      i = j + 1;
    } else if (xml[i + 1] === "/") {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(xml);
      const open = stack.pop();
      if (!m || !open || local(m[0]) !== open.name) fail(xml, i, `unexpected end tag`);
      i = NAME.lastIndex;
      while (/\s/.test(xml[i] ?? "")) i++;
      if (xml[i] !== ">") fail(xml, i, "an end tag without >");
      i++;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(xml);
      if (!m) fail(xml, i, "a < that starts no element");
      i = NAME.lastIndex;
      const el: XmlElement = { name: local(m[0]), attrs: Object.create(null), children: [], text: "" };
      for (;;) {
        const ws = i;
        while (/\s/.test(xml[i] ?? "")) i++;
        if (xml[i] === ">" || xml.startsWith("/>", i)) break;
        NAME.lastIndex = i;
        const a = NAME.exec(xml);
        if (!a || i === ws) fail(xml, i, `a bad attribute in <${m[0]}>`);
        i = NAME.lastIndex;
        while (/\s/.test(xml[i] ?? "")) i++;
        if (xml[i] !== "=") fail(xml, i, `attribute ${a[0]} without a value`);
        i++;
        while (/\s/.test(xml[i] ?? "")) i++;
        const q = xml[i];
        const end = q === '"' || q === "'" ? xml.indexOf(q, i + 1) : -1;
        if (end < 0) fail(xml, i, `attribute ${a[0]} without a quoted value`);
        el.attrs[local(a[0])] = decode(xml, xml.slice(i + 1, end), i);
        i = end + 1;
      }
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) fail(xml, i, "a second root element");
      else root = el;
      if (xml[i] === ">") {
        if (stack.length >= MAX_DEPTH) fail(xml, i, `elements nested deeper than ${MAX_DEPTH}`);
        stack.push(el);
        i++;
      } else i += 2;
    }
  }
  if (stack.length) fail(xml, xml.length, `<${stack[stack.length - 1].name}> is never closed`);
  if (!root) fail(xml, 0, "no element");
  return root;
}

/** The first child element named `name`, or undefined. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** The trimmed text of the first child named `name`, or null when there is none. */
export function childText(el: XmlElement | undefined, name: string): string | null {
  const c = child(el, name);
  return c ? c.text.trim() : null;
}
