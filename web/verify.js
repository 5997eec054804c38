// Checks a Tresen receipt proof in the browser, trusting nothing but the public keys it is given:
// a C2SP tlog-proof (c2sp.org/tlog-proof) whose `extra` line is the journal entry's RFC 8785 bytes,
// an RFC 6962 inclusion proof, and a C2SP checkpoint (c2sp.org/tlog-checkpoint) in a signed note
// (c2sp.org/signed-note) with an Ed25519 signature. It reads these formats as strictly as the
// server's Python does (functions/tresen/domain/tlog_proof.py, signed_note.py, checkpoint.py,
// merkle.py), so a text the server would refuse is refused here too. No dependencies, no network.

const HEADER = "c2sp.org/tlog-proof@v1";
const SIGNATURE_PREFIX = "\u2014 "; // an em dash and a space
const ED25519 = 0x01; // the signed-note signature type of Ed25519
const HASH_SIZE = 32;
const KEY_ID_SIZE = 4;
const MAX_PROOF_HASHES = 64; // a tree of at most 2^64 - 1 leaves is at most 64 levels deep
const MAX_SIGNATURES = 100; // as Go's golang.org/x/mod/sumdb/note; the spec asks for a cap
const MAX_SIZE = 2n ** 64n - 1n; // tree sizes are uint64 in every tlog implementation
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/; // one spelling per number: no leading zeros
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MISMATCH = "the inclusion proof does not match the checkpoint";
const utf8 = new TextEncoder();

function fail(message) {
  throw new Error(message);
}

function encodeBase64(bytes) {
  // Byte by byte: spreading a long entry into fromCharCode's arguments could exceed the stack.
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

// Standard base64 in its one canonical spelling only (padding, no stray bits, no whitespace):
// otherwise one hash or signature could be written several ways.
function decodeBase64(text, what) {
  if (!BASE64.test(text)) fail(`${what} is not base64`);
  const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  if (encodeBase64(bytes) !== text) fail(`${what} is not canonical base64`);
  return bytes;
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, n) => byte === b[n]);
}

async function sha256(...parts) {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((at, part) => (whole.set(part, at), at + part.length), 0);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", whole));
}

// RFC 6962: leaves and inner nodes are hashed under different prefixes, so neither passes as the other.
const leafHash = (data) => sha256(Uint8Array.of(0), data);
const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/** Resolves if `proof` (Uint8Arrays) leads from leaf hash `leafHash` at `index` to `root`, the root
 * of a tree of `size` leaves; rejects otherwise (RFC 9162 §2.1.3.2, as merkle.verify_inclusion).
 * `index` and `size` may be numbers, bigints or decimal strings: indexes go up to 2^64 - 2. */
export async function verifyInclusion(leafHash, index, size, proof, root) {
  const hashes = [leafHash, root, ...proof];
  if (!hashes.every((hash) => hash instanceof Uint8Array && hash.length === HASH_SIZE)) {
    fail("malformed proof: a hash is not 32 bytes");
  }
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn < 0n || fn > sn) fail("the index is outside the checkpoint's tree");
  let node = leafHash;
  for (const sibling of proof) {
    if (sn === 0n) fail(MISMATCH); // the proof is longer than the tree is deep
    if (fn & 1n || fn === sn) {
      node = await nodeHash(sibling, node);
      // On the right edge a subtree may have no right sibling: climb until this node is a right child.
      while (!(fn & 1n) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else {
      node = await nodeHash(node, sibling);
    }
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  if (sn !== 0n || !sameBytes(node, root)) fail(MISMATCH);
}

function checkKeyName(name, what) {
  // A space would end the name in a signature line, a plus would end it in a verifier key.
  if (!name || name.includes("+") || /\s/.test(name)) fail(`${what}: invalid key name`);
}

// C2SP signed-note key id: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
async function keyId(name, publicKey) {
  return (await sha256(utf8.encode(name + "\n"), Uint8Array.of(ED25519), publicKey)).slice(0, KEY_ID_SIZE);
}

const hex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

// One key of GET /v1/journal/public-keys ({key_id, vkey, public_key, ...}) or a bare verifier key
// `<name>+<hex key id>+<base64(0x01 ‖ public key)>`. Its key id is computed, never taken on trust,
// and the fields listed beside the vkey must agree with it (as journal_audit.key_from_registry).
async function parseKey(key) {
  const what = "malformed public key";
  const vkey = typeof key === "string" ? key : key?.vkey;
  if (typeof vkey !== "string") fail(`${what}: no vkey`);
  // Base64 may itself contain '+': only the first two separate parts.
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 0 || second < 0) fail(`${what}: a vkey has three parts separated by '+'`);
  const [name, claimedId] = [vkey.slice(0, first), vkey.slice(first + 1, second)];
  checkKeyName(name, what);
  const material = decodeBase64(vkey.slice(second + 1), what);
  if (material[0] !== ED25519 || material.length !== 1 + 32) fail(`${what}: not an Ed25519 key`);
  const publicKey = material.slice(1);
  const id = hex(await keyId(name, publicKey));
  if (claimedId !== id) fail(`${what}: the key id does not belong to the key`);
  if (typeof key === "object" && "key_id" in key && key.key_id !== id) fail(`${what}: key_id is not its vkey's`);
  if (typeof key === "object" && "public_key" in key && key.public_key !== encodeBase64(publicKey)) {
    fail(`${what}: public_key is not its vkey's`);
  }
  return { name, id, publicKey };
}

async function ed25519Verifies(publicKey, signature, message) {
  if (signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false; // a public key that is no curve point verifies nothing
  }
}

/** Opens a C2SP signed note with the given keys (as `verifyReceiptProof` takes them): resolves
 * `{text, keyName}`, the signed text and the name of the first trusted key that signed it. Signatures
 * by keys not given are skipped (witnesses, rotated keys); a bad one by a given key rejects. */
export async function openNote(note, publicKeys) {
  if (!Array.isArray(publicKeys)) fail("malformed public key: not a list");
  const keys = await Promise.all(publicKeys.map(parseKey));
  if (/[\x00-\x09\x0b-\x1f]/.test(note)) fail("malformed proof: a control character in the checkpoint");
  // The text may hold blank lines itself: the signatures follow the last one.
  const split = note.lastIndexOf("\n\n");
  if (split < 0) fail("malformed proof: no blank line before the checkpoint's signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n")) fail("malformed proof: the checkpoint's signature lines do not end in a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) fail("malformed proof: too many signatures");
  let signer = null;
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX)) fail("malformed proof: a signature line does not start with an em dash");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(" ");
    const name = space < 0 ? rest : rest.slice(0, space);
    checkKeyName(name, "malformed proof");
    const signed = decodeBase64(space < 0 ? "" : rest.slice(space + 1), "malformed proof: a signature");
    if (signed.length <= KEY_ID_SIZE) fail("malformed proof: a signature is too short");
    const id = hex(signed.slice(0, KEY_ID_SIZE));
    const key = keys.find((known) => known.name === name && known.id === id);
    if (!key) continue;
    if (!(await ed25519Verifies(key.publicKey, signed.slice(KEY_ID_SIZE), utf8.encode(text)))) {
      fail("the signature does not verify");
    }
    signer ??= key;
  }
  if (!signer) fail("no known key signed the checkpoint");
  return { text, keyName: signer.name };
}

function parseCheckpoint(text) {
  const what = "malformed checkpoint";
  const lines = text.slice(0, -1).split("\n"); // openNote's text always ends in a newline
  if (lines.length < 3) fail(`${what}: fewer than three lines`);
  const [origin, size, root, ...extensions] = lines;
  // An empty line would shift the lines after it.
  if (!origin || extensions.some((line) => !line)) fail(`${what}: an empty line`);
  if (!DECIMAL.test(size) || BigInt(size) > MAX_SIZE) fail(`${what}: the tree size is not a uint64 decimal`);
  const rootHash = decodeBase64(root, `${what}: the root hash`);
  if (rootHash.length !== HASH_SIZE) fail(`${what}: the root hash is not 32 bytes`);
  return { origin, size: BigInt(size), root: rootHash };
}

function parseProof(text) {
  const what = "malformed proof";
  // Proof lines are never empty, so the first empty line is the one before the checkpoint note.
  const split = text.indexOf("\n\n");
  if (split < 0) fail(`${what}: no empty line before the checkpoint`);
  const lines = text.slice(0, split).split("\n");
  const note = text.slice(split + 2);
  if (lines.shift() !== HEADER) fail(`${what}: it does not start with ${HEADER}`);
  let extra = null;
  if (lines[0]?.startsWith("extra ")) {
    extra = decodeBase64(lines.shift().slice("extra ".length), `${what}: the extra data`);
    if (!extra.length) fail(`${what}: the extra line is empty`);
  }
  const index = lines.shift();
  if (!index?.startsWith("index ") || !DECIMAL.test(index.slice("index ".length))) {
    fail(`${what}: no index line with a decimal index`);
  }
  const leafIndex = BigInt(index.slice("index ".length));
  if (leafIndex >= MAX_SIZE) fail(`${what}: the index is too large`);
  if (lines.length > MAX_PROOF_HASHES) fail(`${what}: more than ${MAX_PROOF_HASHES} proof hashes`);
  const hashes = lines.map((line, n) => decodeBase64(line, `${what}: proof hash ${n}`));
  if (hashes.some((hash) => hash.length !== HASH_SIZE)) fail(`${what}: a proof hash is not 32 bytes`);
  if (!note || note.startsWith("\n") || !note.endsWith("\n")) fail(`${what}: the checkpoint note is cut short`);
  return { index: leafIndex, hashes, note, extra };
}

/** Verifies a receipt proof (one `proof` of GET /v1/orders/{order}/proof) with the keys of
 * GET /v1/journal/public-keys. Resolves `{index, treeSize, root, keyName, origin, entry}` (root in
 * base64, entry the journal entry's parsed JSON); rejects with an Error saying what failed. */
export async function verifyReceiptProof(proofText, publicKeys) {
  if (typeof proofText !== "string" || !proofText.isWellFormed()) fail("malformed proof: not UTF-8 text");
  const proof = parseProof(proofText);
  const opened = await openNote(proof.note, publicKeys);
  // Only text a trusted key signed is read as a checkpoint.
  const checkpoint = parseCheckpoint(opened.text);
  // The extra data is not authenticated on its own: only once it hashes to the proven leaf.
  if (!proof.extra) fail("malformed proof: it carries no journal entry");
  await verifyInclusion(await leafHash(proof.extra), proof.index, checkpoint.size, proof.hashes, checkpoint.root);
  let entry;
  try {
    entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(proof.extra));
  } catch {
    fail("the journal entry is not JSON");
  }
  return {
    index: Number(proof.index), // a store's journal stays far below 2^53 entries
    treeSize: Number(checkpoint.size),
    root: encodeBase64(checkpoint.root),
    keyName: opened.keyName,
    origin: checkpoint.origin,
    entry,
  };
}
