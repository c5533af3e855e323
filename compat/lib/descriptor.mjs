// The msync schema as the vendor SDKs carry it, and a field-by-field comparison with ours.
//
// Both bundles embed their protobuf schema as a protobufjs JSON descriptor, written in the
// minified code as a JavaScript object literal: `Root.fromJSON({nested:{easemob:...}})`. We find
// that call, take its argument by bracket matching (strings skipped), and evaluate the literal on
// its own with `new Function`: nothing else of the bundle runs. The descriptor is read from the
// installed npm package each time; nothing of it is copied into this repository.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const marker = 'Root.fromJSON(';

/**
 * objectLiteralAt returns the text of the object or array literal that starts at text[start],
 * up to its matching bracket. Quoted strings (with backslash escapes) are skipped, so brackets
 * inside them do not count. It throws if the literal does not close.
 */
export function objectLiteralAt(text, start) {
  const open = text[start];
  if (open !== '{' && open !== '[') throw new Error(`no object literal at offset ${start} (found ${JSON.stringify(open)})`);
  let depth = 0;
  let quote = null;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  throw new Error(`the object literal at offset ${start} does not close`);
}

/**
 * vendorDescriptor reads a bundle and returns the JSON descriptor of its `easemob` protobuf
 * package, as a plain object. It throws unless the bundle holds exactly one such descriptor.
 */
export function vendorDescriptor(bundleFile) {
  const text = readFileSync(bundleFile, 'utf8');
  const needle = `${marker}{nested:{easemob`;
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${bundleFile}: no ${needle}`);
  if (text.indexOf(needle, at + 1) >= 0) throw new Error(`${bundleFile}: more than one ${needle}`);
  const literal = objectLiteralAt(text, at + marker.length);
  return new Function(`return ${literal}`)();
}

/** vendorRoot is vendorDescriptor loaded into a resolved protobufjs Root. */
export function vendorRoot(bundleFile) {
  const root = protobuf.Root.fromJSON(vendorDescriptor(bundleFile));
  root.resolveAll();
  return root;
}

/** ourSchema parses .proto source text; it returns the resolved root, the package and the syntax. */
export function ourSchema(protoText) {
  const parsed = protobuf.parse(protoText, { alternateCommentMode: true });
  parsed.root.resolveAll();
  return { root: parsed.root, pkg: parsed.package ?? '', syntax: syntaxOf(protoText) };
}

/** syntaxOf reads the `syntax = "...";` statement with protobufjs's tokenizer (proto2 without one). */
function syntaxOf(protoText) {
  const tn = protobuf.tokenize(protoText, true);
  for (let tok = tn.next(); tok !== null; tok = tn.next()) {
    if (tok !== 'syntax') continue;
    if (tn.next() !== '=') break;
    const quote = tn.next();
    const value = tn.next();
    return quote === '"' || quote === "'" ? value : quote;
  }
  return 'proto2';
}

/** The vendor's package: all its types live under it. */
export const vendorPackage = 'easemob.pb';

/** relName is a type's full name relative to its package, e.g. "MessageBody.Content.Type". */
function relName(obj, pkg) {
  const full = obj.fullName.replace(/^\./, '');
  return pkg && full.startsWith(`${pkg}.`) ? full.slice(pkg.length + 1) : full;
}

/** typeName is what a field holds: a scalar's name, or the relative name of its message or enum. */
function typeName(field, pkg) {
  return field.resolvedType ? relName(field.resolvedType, pkg) : field.type;
}

/** definitions lists every message (protobuf.Type) and enum under ns, depth first. */
function definitions(ns) {
  const out = [];
  for (const child of ns.nestedArray ?? []) {
    if (child instanceof protobuf.Type || child instanceof protobuf.Enum) out.push(child);
    if (child instanceof protobuf.Namespace) out.push(...definitions(child));
  }
  return out;
}

/**
 * compareSchemas checks that every message, field, enum and enum value of ours exists in the
 * vendor's root with the same name, number, type and repeated-ness. exclude lists names relative
 * to the package that the vendor's schema is known to lack (a whole "Type", a field "Type.field"
 * or an enum value "Enum.VALUE"); they are not looked up. It returns the problems found, one
 * line each; none means ours agrees.
 *
 * Packed or unpacked encoding of repeated numbers is not compared: protobuf parsers accept both
 * (protobuf-go and protobufjs do).
 *
 * One allowance: proto3 wants every enum to start at 0. Where the vendor's enum has no value 0,
 * a 0 value of ours (which the SDK never sends, and which we must not send) is not an error.
 */
export function compareSchemas(ours, vendor, exclude = new Set()) {
  const problems = [];
  const base = ours.pkg ? ours.root.lookup(ours.pkg) : ours.root;
  if (!base) return [`our package ${ours.pkg} has no definitions`];
  const defs = definitions(base);
  if (defs.length === 0) problems.push('our schema declares no message or enum');
  for (const def of defs) {
    const name = relName(def, ours.pkg);
    if (exclude.has(name)) continue;
    const theirs = vendor.lookup(`${vendorPackage}.${name}`);
    if (def instanceof protobuf.Type) {
      if (!(theirs instanceof protobuf.Type)) {
        problems.push(`message ${name}: not in the vendor's schema`);
        continue;
      }
      problems.push(...compareFields(def, theirs, name, ours.pkg, exclude));
    } else {
      if (!(theirs instanceof protobuf.Enum)) {
        problems.push(`enum ${name}: not in the vendor's schema`);
        continue;
      }
      problems.push(...compareValues(def, theirs, name, ours.syntax, exclude));
    }
  }
  return problems;
}

function compareFields(type, theirs, name, pkg, exclude) {
  const problems = [];
  for (const f of type.fieldsArray) {
    const where = `${name}.${f.name}`;
    if (exclude.has(where)) continue;
    const v = theirs.fields[f.name];
    if (!v) {
      problems.push(`field ${where}: not in the vendor's schema`);
      continue;
    }
    if (f.id !== v.id) problems.push(`field ${where}: number ${f.id}, the vendor's is ${v.id}`);
    const ot = typeName(f, pkg);
    const vt = typeName(v, vendorPackage);
    if (ot !== vt) problems.push(`field ${where}: type ${ot}, the vendor's is ${vt}`);
    if (f.repeated !== v.repeated) problems.push(`field ${where}: ${f.repeated ? 'repeated' : 'singular'}, the vendor's is ${v.repeated ? 'repeated' : 'singular'}`);
    if (f.map !== v.map) problems.push(`field ${where}: map-ness differs from the vendor's`);
  }
  return problems;
}

function compareValues(en, theirs, name, syntax, exclude) {
  const problems = [];
  const theirNumbers = new Set(Object.values(theirs.values));
  for (const [value, num] of Object.entries(en.values)) {
    const where = `${name}.${value}`;
    if (exclude.has(where)) continue;
    if (syntax === 'proto3' && num === 0 && !theirNumbers.has(0) && !(value in theirs.values)) continue;
    if (!(value in theirs.values)) problems.push(`enum value ${where}: not in the vendor's schema`);
    else if (theirs.values[value] !== num) problems.push(`enum value ${where}: number ${num}, the vendor's is ${theirs.values[value]}`);
  }
  return problems;
}
