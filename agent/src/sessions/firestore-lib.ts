// The seam through which the agent loads @google-cloud/firestore. Run from source, it is a plain
// dynamic import. In the bundle (scripts/bundle.mjs) this module is replaced by one that holds the
// library pre-bundled and compressed, and loads it on first use: the library and its protobuf
// descriptors are ~3 MB of JavaScript, which would otherwise be parsed at every start of every agent,
// including the ones that keep sessions in memory.
export type FirestoreLib = typeof import("@google-cloud/firestore");

export async function loadFirestore(): Promise<FirestoreLib> {
  return import("@google-cloud/firestore");
}
