// The seam through which the agent loads the A2A SDK: dynamic imports from source; in the bundle
// (scripts/bundle.mjs), the SDK packed, compressed and loaded on the first A2A request.
export type A2aSdk = typeof import("@a2a-js/sdk") &
  typeof import("@a2a-js/sdk/server") &
  typeof import("@a2a-js/sdk/errors") &
  typeof import("@a2a-js/sdk/compat/v0_3") &
  typeof import("@a2a-js/sdk/compat/v0_3/server");

export async function loadA2aSdk(): Promise<A2aSdk> {
  const parts = await Promise.all([
    import("@a2a-js/sdk"),
    import("@a2a-js/sdk/server"),
    import("@a2a-js/sdk/errors"),
    import("@a2a-js/sdk/compat/v0_3"),
    import("@a2a-js/sdk/compat/v0_3/server"),
  ]);
  return Object.assign({}, ...parts) as A2aSdk;
}
