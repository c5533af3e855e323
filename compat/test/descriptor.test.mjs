// Our msync .proto against the schema embedded in each vendor bundle, field by field.
//
// Every message, enum, field and enum value we declare must exist in the vendor's descriptor with
// the same number, type and repeated-ness (agora-chat: except what its older schema lacks).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { compareSchemas, objectLiteralAt, ourSchema, vendorDescriptor, vendorPackage, vendorRoot } from '../lib/descriptor.mjs';
import { installedVersion, ourProto, vendors } from '../lib/vendors.mjs';

function loadOurs() {
  assert.ok(existsSync(ourProto), `${ourProto} is missing: the msync schema of internal/msync/pb`);
  return ourSchema(readFileSync(ourProto, 'utf8'));
}

test('objectLiteralAt matches brackets and skips strings', () => {
  const text = 'x({a:"}{",b:[1,{c:\'\\\'}\'}],d:`]`}) tail';
  assert.equal(objectLiteralAt(text, 2), '{a:"}{",b:[1,{c:\'\\\'}\'}],d:`]`}');
  assert.throws(() => objectLiteralAt('{a:[}', 0), /does not close/);
});

for (const v of vendors) {
  test(`${v.name}@${v.version}: our msync.proto agrees with the bundle's schema`, () => {
    assert.equal(installedVersion(v), v.version, `installed ${v.name}`);
    const problems = compareSchemas(loadOurs(), vendorRoot(v.bundlePath), new Set(v.lacks));
    assert.deepEqual(problems, [], `our schema differs from ${v.name}@${v.version}:\n${problems.join('\n')}`);
  });
}

test('the list of what agora-chat lacks is exact: each item is in easemob-websdk and not in agora-chat', () => {
  const [em, ag] = vendors.map((v) => vendorRoot(v.bundlePath));
  const lookup = (root, name) => {
    const dot = name.lastIndexOf('.');
    const whole = root.lookup(`${vendorPackage}.${name}`);
    if (whole) return whole;
    const parent = dot > 0 ? root.lookup(`${vendorPackage}.${name.slice(0, dot)}`) : null;
    const member = name.slice(dot + 1);
    if (parent instanceof protobuf.Type) return parent.fields[member];
    if (parent instanceof protobuf.Enum) return member in parent.values ? parent.values[member] : undefined;
    return undefined;
  };
  for (const name of vendors[1].lacks) {
    assert.notEqual(lookup(em, name), undefined, `${name} should be in easemob-websdk`);
    assert.equal(lookup(ag, name), undefined, `${name} should not be in agora-chat`);
  }
  // And nothing else differs: with the list applied, the vendor schemas agree both ways.
  const asOurs = (root) => ({ root, pkg: vendorPackage, syntax: 'proto2' });
  assert.deepEqual(compareSchemas(asOurs(ag), em), []);
  assert.deepEqual(compareSchemas(asOurs(em), ag, new Set(vendors[1].lacks)), []);
});

test('the comparison catches a changed number, type or repeated-ness', () => {
  const em = vendorRoot(vendors[0].bundlePath);
  const ours = loadOurs();
  const fields = ours.root
    .lookup(ours.pkg)
    .nestedArray.filter((d) => d instanceof protobuf.Type)
    .flatMap((t) => t.fieldsArray);
  const scalar = fields.find((f) => !f.resolvedType && f.type !== 'string');
  assert.ok(scalar, 'our schema has a scalar field that is not a string');
  const [numbered, retyped, flipped] = [fields[0], scalar, fields.find((f) => f !== fields[0] && f !== scalar)];
  numbered.id += 1000;
  retyped.type = 'string';
  flipped.repeated = !flipped.repeated;
  const problems = compareSchemas(ours, em).join('\n');
  assert.match(problems, new RegExp(`${numbered.name}: number ${numbered.id}`));
  assert.match(problems, new RegExp(`${retyped.name}: type string`));
  assert.match(problems, new RegExp(`${flipped.name}: (repeated|singular)`));
});

test('the descriptor is the protobufjs JSON form, not a stray object', () => {
  const d = vendorDescriptor(vendors[0].bundlePath);
  assert.ok(d.nested.easemob.nested.pb.nested.MSync.fields.payload, 'MSync.payload');
});
