// make deploy / iam / status / proxy / clean against the gcloud stand-in (test/support/bin/gcloud),
// which records every argv line and keeps a small state so describe-before-create is observable.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const standIns = join(root, "test/support/bin");
const dockerStandIn = join(root, "test/support/docker-bin");

const P = "--project=my-project";
const W = `${P} --region=us-central1`;
const SA = "mcp-agent@my-project.iam.gserviceaccount.com";
const MEMBER = `serviceAccount:${SA}`;
const AR = "us-central1-docker.pkg.dev/my-project/mcp-agent";
const MCP_URL = "https://mcp-server-123456789012.us-central1.run.app";
const POLICY = "--flatten=bindings[].members --format=value(bindings.role,bindings.members)";

const ENABLE = `gcloud services enable run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com aiplatform.googleapis.com iam.googleapis.com ${P}`;
const REPO_DESCRIBE = `gcloud artifacts repositories describe mcp-agent --location=us-central1 ${P}`;
const REPO_CREATE = `gcloud artifacts repositories create mcp-agent --repository-format=docker --location=us-central1 --description=Images for mcp-server and agent ${P}`;
const CLOUD_BUILD = `gcloud builds submit . --config=cloudbuild.yaml --substitutions=_MCP_IMAGE=${AR}/mcp-server:t1,_AGENT_IMAGE=${AR}/agent:t1,_NODE_IMAGE=node:22-slim ${P}`;
const SA_DESCRIBE = `gcloud iam service-accounts describe ${SA} ${P}`;
const SA_CREATE = `gcloud iam service-accounts create mcp-agent --display-name=MCP agent on Cloud Run ${P}`;
const MCP_SA = "mcp-server@my-project.iam.gserviceaccount.com";
const MCP_SA_DESCRIBE = `gcloud iam service-accounts describe ${MCP_SA} ${P}`;
const MCP_SA_CREATE = `gcloud iam service-accounts create mcp-server --display-name=MCP server on Cloud Run (no roles) ${P}`;
const MCP_DEPLOY = `gcloud run deploy mcp-server --image=${AR}/mcp-server:t1 ${W} --service-account=${MCP_SA} --no-allow-unauthenticated --timeout=3600 --memory=512Mi --cpu=1 --concurrency=80 --max-instances=10 --no-session-affinity --set-env-vars=FRANKFURTER_URL=https://api.frankfurter.dev/v1`;
const MCP_URL_READ = `gcloud run services describe mcp-server ${W} --format=value(status.url)`;
const agentDeploy = (mcpUrl: string, access = "--allow-unauthenticated"): string =>
  `gcloud run deploy agent --image=${AR}/agent:t1 ${W} --service-account=${SA} ${access} --timeout=3600 --memory=512Mi --cpu=1 --concurrency=80 --max-instances=10 --session-affinity --set-env-vars=MCP_SERVER_URL=${mcpUrl},MCP_AUTH=id-token,MODEL_PROVIDER=gemini,GOOGLE_GENAI_USE_VERTEXAI=true,GOOGLE_CLOUD_PROJECT=my-project,GOOGLE_CLOUD_LOCATION=us-central1,GOOGLE_MODEL=gemini-2.5-flash`;

const RUN_POLICY = `gcloud run services get-iam-policy mcp-server ${W} ${POLICY}`;
const PROJECT_POLICY = `gcloud projects get-iam-policy my-project ${POLICY}`;
const GRANT_INVOKER = `gcloud run services add-iam-policy-binding mcp-server ${W} --member=${MEMBER} --role=roles/run.invoker`;
const GRANT_AIPLATFORM = `gcloud projects add-iam-policy-binding my-project --condition=None --member=${MEMBER} --role=roles/aiplatform.user`;
const REVOKE_AIPLATFORM = `gcloud projects remove-iam-policy-binding my-project --condition=None --member=${MEMBER} --role=roles/aiplatform.user`;
const REVOKE_INVOKER = `gcloud run services remove-iam-policy-binding mcp-server ${W} --member=${MEMBER} --role=roles/run.invoker`;
const SA_DELETE = `gcloud iam service-accounts delete ${SA} --quiet ${P}`;
const MCP_SA_DELETE = `gcloud iam service-accounts delete ${MCP_SA} --quiet ${P}`;
const svcDescribe = (s: string): string => `gcloud run services describe ${s} ${W}`;
const svcDelete = (s: string): string => `gcloud run services delete ${s} --quiet ${W}`;
const pkgDescribe = (p: string): string => `gcloud artifacts packages describe ${p} --repository=mcp-agent --location=us-central1 ${P}`;
const pkgDelete = (p: string): string => `gcloud artifacts packages delete ${p} --quiet --repository=mcp-agent --location=us-central1 ${P}`;

const AGENT_URL_READ = `gcloud run services describe agent ${W} --format=value(status.url)`;
const FIRST_DEPLOY = [ENABLE, REPO_DESCRIBE, REPO_CREATE, CLOUD_BUILD, MCP_SA_DESCRIBE, MCP_SA_CREATE, SA_DESCRIBE, SA_CREATE, MCP_DEPLOY, MCP_URL_READ, agentDeploy(`${MCP_URL}/mcp`), AGENT_URL_READ];
const IAM_CHECKS = [svcDescribe("mcp-server"), SA_DESCRIBE];
const FIRST_IAM = [...IAM_CHECKS, RUN_POLICY, GRANT_INVOKER, PROJECT_POLICY, GRANT_AIPLATFORM];
const CLEAN_IAM = [PROJECT_POLICY, REVOKE_AIPLATFORM, RUN_POLICY, REVOKE_INVOKER];
const CLEAN_ACCOUNTS = [SA_DESCRIBE, SA_DELETE, MCP_SA_DESCRIBE, MCP_SA_DELETE];
const CLEAN_SERVICES = [svcDescribe("agent"), svcDelete("agent"), svcDescribe("mcp-server"), svcDelete("mcp-server")];
const CLEAN_IMAGES = [pkgDescribe("mcp-server"), pkgDelete("mcp-server"), pkgDescribe("agent"), pkgDelete("agent")];

interface Result { code: number | null; stdout: string; stderr: string; calls: string[]; docker: string[]; state: string[] }

// One fake cloud per test: its own argv logs and state, removed afterwards.
function cloud(t: { after: (fn: () => void) => void }): {
  run: (cmd: string[], env?: Record<string, string>, opts?: { input?: string; docker?: boolean }) => Result;
  state: () => string[];
} {
  const dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, "gcloud.log");
  const dockerLog = join(dir, "docker.log");
  const stateFile = join(dir, "state");
  const lines = (f: string): string[] => (existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean) : []);
  return {
    state: () => lines(stateFile),
    run(cmd, env = {}, opts = {}) {
      writeFileSync(log, "");
      writeFileSync(dockerLog, "");
      const path = [...(opts.docker ? [dockerStandIn] : []), standIns, process.env.PATH].join(":");
      // A clean environment: no DRY_RUN/YES/KEEP_* leaking in from the caller's shell.
      const r = spawnSync(cmd[0]!, cmd.slice(1), {
        cwd: root,
        input: opts.input ?? "",
        encoding: "utf8",
        env: {
          PATH: path, HOME: dir, GCLOUD_LOG: log, DOCKER_LOG: dockerLog, GCLOUD_STATE: stateFile,
          PROJECT_ID: "my-project", REGION: "us-central1", IMAGE_TAG: "t1", ...env,
        },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: lines(log), docker: lines(dockerLog), state: lines(stateFile) };
    },
  };
}

const make = (...targets: string[]): string[] => ["make", "--no-print-directory", "-s", ...targets];
const ok = (r: Result): Result => {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
  return r;
};

// Each test has its own fake cloud, so they can run side by side.
describe("Cloud Run scripts against the gcloud stand-in", { concurrency: 4 }, () => {
  test("make deploy (Cloud Build): APIs, repo, images, service account, private mcp-server, then the agent", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy")));
    assert.deepEqual(r.calls, FIRST_DEPLOY);
    assert.ok(c.state().includes("binding service/agent roles/run.invoker allUsers"), "agent public by default");
    assert.ok(!c.state().some((l) => l.startsWith("binding service/mcp-server")), "mcp-server has no public binding");
    assert.match(r.stderr, /Next: make iam PROJECT_ID=my-project REGION=us-central1/);
    assert.match(r.stderr, /Then: make smoke AGENT_URL=https:\/\/agent-123456789012\.us-central1\.run\.app\n/);
  });

  test("cloudbuild.yaml builds both Dockerfiles from the root with exactly the substitutions deploy passes", (t) => {
    const yaml = readFileSync(join(root, "cloudbuild.yaml"), "utf8");
    const r = ok(cloud(t).run(["scripts/deploy.sh"], { DRY_RUN: "1" }));
    const passed = /--substitutions=(\S+)/.exec(r.stderr)![1]!.split(",").map((kv) => kv.split("=")[0]).sort();
    const used = [...new Set([...yaml.matchAll(/\$\{(_[A-Z_]+)\}/g)].map((m) => m[1]))].sort();
    assert.deepEqual(passed, used);
    for (const svc of ["mcp-server", "agent"]) assert.match(yaml, new RegExp(`- ${svc}/Dockerfile\\n`));
    // ${...} inside a YAML flow sequence ([a, ${_X}]) is a parse error for gcloud: keep block lists.
    assert.doesNotMatch(yaml, /\[[^\]\n]*\$\{/);
  });

  test("a second deploy creates nothing and fails on nothing", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const r = ok(c.run(["scripts/deploy.sh"]));
    assert.deepEqual(r.calls, [ENABLE, REPO_DESCRIBE, CLOUD_BUILD, MCP_SA_DESCRIBE, SA_DESCRIBE, MCP_DEPLOY, MCP_URL_READ, agentDeploy(`${MCP_URL}/mcp`), AGENT_URL_READ]);
    assert.ok(!r.calls.some((l) => / create /.test(l)));
  });

  test("BUILD=docker builds from the repository root for linux/amd64 and pushes to Artifact Registry", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy"), { BUILD: "docker", NODE_IMAGE: "local/node:22" }, { docker: true }));
    assert.deepEqual(r.calls, [ENABLE, REPO_DESCRIBE, REPO_CREATE, "gcloud auth configure-docker us-central1-docker.pkg.dev --quiet",
      MCP_SA_DESCRIBE, MCP_SA_CREATE, SA_DESCRIBE, SA_CREATE, MCP_DEPLOY, MCP_URL_READ, agentDeploy(`${MCP_URL}/mcp`), AGENT_URL_READ]);
    assert.deepEqual(r.docker, [
      `docker build --platform=linux/amd64 -f mcp-server/Dockerfile --build-arg NODE_IMAGE=local/node:22 -t ${AR}/mcp-server:t1 .`,
      `docker push ${AR}/mcp-server:t1`,
      `docker build --platform=linux/amd64 -f agent/Dockerfile --build-arg NODE_IMAGE=local/node:22 -t ${AR}/agent:t1 .`,
      `docker push ${AR}/agent:t1`,
    ]);
  });

  test("MCP_TRANSPORT=sse: session affinity, one instance, agent pointed at /sse; more instances warn", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { MCP_TRANSPORT: "sse" }));
    const mcp = MCP_DEPLOY.replace("--max-instances=10 --no-session-affinity", "--max-instances=1 --session-affinity");
    assert.deepEqual(r.calls.slice(-4), [mcp, MCP_URL_READ, agentDeploy(`${MCP_URL}/sse`), AGENT_URL_READ]);
    assert.doesNotMatch(r.stderr, /warning/);
    const many = ok(c.run(["scripts/deploy.sh"], { MCP_TRANSPORT: "sse", MCP_MAX_INSTANCES: "3" }));
    assert.ok(many.calls.includes(mcp.replace("--max-instances=1", "--max-instances=3")));
    assert.match(many.stderr, /warning: MCP_TRANSPORT=sse with MCP_MAX_INSTANCES=3/);
  });

  test("AGENT_PUBLIC=0 deploys the agent private", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { AGENT_PUBLIC: "0" }));
    assert.equal(r.calls.at(-2), agentDeploy(`${MCP_URL}/mcp`, "--no-allow-unauthenticated"));
    assert.ok(!c.state().some((l) => l.includes("allUsers")));
  });

  test("bad option values are refused before any gcloud call", (t) => {
    const c = cloud(t);
    for (const [k, v] of [["BUILD", "kaniko"], ["MCP_TRANSPORT", "ws"], ["AGENT_PUBLIC", "yes"]] as const) {
      const r = c.run(["scripts/deploy.sh"], { [k]: v });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`error: ${k} must be`));
      assert.deepEqual(r.calls, []);
    }
  });

  test("make iam grants run.invoker on mcp-server and aiplatform.user on the project, once", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const r = ok(c.run(make("iam")));
    assert.deepEqual(r.calls, FIRST_IAM);
    assert.match(r.stderr, /granted: roles\/run\.invoker to serviceAccount:mcp-agent@my-project\.iam\.gserviceaccount\.com on service mcp-server/);
    assert.match(r.stderr, /granted: roles\/aiplatform\.user to .* on project my-project/);
    const again = ok(c.run(make("iam")));
    assert.deepEqual(again.calls, [...IAM_CHECKS, RUN_POLICY, PROJECT_POLICY], "second run only reads");
    assert.match(again.stderr, /already granted: roles\/run\.invoker/);
    assert.match(again.stderr, /already granted: roles\/aiplatform\.user/);
  });

  test("make iam before make deploy says to deploy first and grants nothing", (t) => {
    const c = cloud(t);
    const r = c.run(make("iam"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error: service mcp-server not found in my-project\/us-central1: run make deploy first \(nothing was granted\)/);
    assert.deepEqual(r.calls, [svcDescribe("mcp-server")]);
  });

  test("make status shows URLs, service accounts and whether the bindings exist", (t) => {
    const c = cloud(t);
    const before = ok(c.run(make("status")));
    assert.match(before.stdout, /mcp-server +not deployed/);
    assert.match(before.stdout, /roles\/run\.invoker .*: MISSING \(make iam\)/);
    ok(c.run(make("deploy")));
    const mid = ok(c.run(make("status")));
    assert.match(mid.stdout, new RegExp(`mcp-server +https://mcp-server-123456789012\\.us-central1\\.run\\.app  \\(runs as ${MCP_SA}, `));
    assert.match(mid.stdout, new RegExp(`agent +https://agent-123456789012\\.us-central1\\.run\\.app  \\(runs as ${SA}, revision agent-00001-abc\\)`));
    assert.match(mid.stdout, /roles\/aiplatform\.user .*: MISSING/);
    ok(c.run(make("iam")));
    const after = ok(c.run(make("status")));
    assert.match(after.stdout, /roles\/run\.invoker for .* on mcp-server: granted/);
    assert.match(after.stdout, /roles\/aiplatform\.user for .* on project: granted/);
    assert.ok(!after.calls.some((l) => /(add|remove)-iam|create|delete|deploy /.test(l)), "status only reads");
  });

  test("make proxy runs gcloud run services proxy for mcp-server on 8082 (PROXY_PORT overrides)", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("proxy")));
    assert.deepEqual(r.calls, [`gcloud run services proxy mcp-server ${W} --port=8082`]);
    assert.match(r.stderr, /MCP_SERVER_URL=http:\/\/127\.0\.0\.1:8082\/mcp/);
    assert.deepEqual(ok(c.run(["scripts/proxy.sh"], { PROXY_PORT: "9000" })).calls, [`gcloud run services proxy mcp-server ${W} --port=9000`]);
  });

  test("make clean YES=1 removes the bindings, the service account, both services and both images; never disables APIs", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    assert.deepEqual(r.calls, [...CLEAN_IAM, ...CLEAN_SERVICES, ...CLEAN_ACCOUNTS, ...CLEAN_IMAGES]);
    assert.ok(!r.calls.some((l) => l.includes("services disable")));
    // What remains is exactly what deploy never owned alone: the APIs and the (empty) repository.
    assert.deepEqual(c.state().filter((l) => !l.startsWith("api ")), ["repo mcp-agent"]);
    assert.match(r.stderr, /To start again: make deploy PROJECT_ID=my-project REGION=us-central1 && make iam/);
  });

  test("clean removes bindings before the service account, so no deleted:serviceAccount member lingers", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IMAGES: "1" }));
    assert.ok(!c.state().some((l) => l.includes("deleted:")), c.state().join("\n"));
  });

  test("KEEP_IMAGES=1 keeps the images; KEEP_IAM=1 keeps the bindings and the service account", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    const keepImages = ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IMAGES: "1", KEEP_IAM: "1" }));
    assert.deepEqual(keepImages.calls, CLEAN_SERVICES);
    assert.match(keepImages.stderr, /Images kept \(KEEP_IMAGES=1\)/);
    assert.match(keepImages.stderr, /IAM kept \(KEEP_IAM=1\)/);
    assert.ok(c.state().includes("package agent") && c.state().includes(`sa ${SA}`));
    assert.ok(c.state().includes(`binding project roles/aiplatform.user ${MEMBER}`));
    assert.match(keepImages.stderr, /roles\/run\.invoker is part of the mcp-server service and goes with it/);
    // A quick restart reuses the kept account; the new mcp-server needs only its run.invoker again.
    const redeploy = ok(c.run(make("deploy")));
    assert.ok(!redeploy.calls.some((l) => / create /.test(l)), redeploy.calls.join("\n"));
    assert.deepEqual(ok(c.run(make("iam"))).calls, [...IAM_CHECKS, RUN_POLICY, GRANT_INVOKER, PROJECT_POLICY]);
    const keepIam = ok(c.run(["scripts/clean.sh"], { YES: "1", KEEP_IAM: "1" }));
    assert.deepEqual(keepIam.calls, [...CLEAN_SERVICES, ...CLEAN_IMAGES]);
  });

  test("a second clean deletes nothing and fails on nothing", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    ok(c.run(make("iam")));
    ok(c.run(make("clean"), { YES: "1" }));
    const r = ok(c.run(make("clean"), { YES: "1" }));
    assert.deepEqual(r.calls, [PROJECT_POLICY, RUN_POLICY, svcDescribe("agent"), svcDescribe("mcp-server"), SA_DESCRIBE, MCP_SA_DESCRIBE, pkgDescribe("mcp-server"), pkgDescribe("agent")]);
    assert.match(r.stderr, /already gone: service agent/);
  });

  test("clean refuses without confirmation: closed stdin, or any answer but yes", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    const closed = c.run(["scripts/clean.sh"]);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /no confirmation \(stdin is closed\); nothing was changed\. Rerun with YES=1/);
    assert.doesNotMatch(closed.stderr, /stopped part-way/);
    const no = c.run(["scripts/clean.sh"], {}, { input: "no\n" });
    assert.equal(no.code, 1);
    assert.match(no.stderr, /not confirmed \(got "no"\)/);
    assert.deepEqual([...closed.calls, ...no.calls], []);
    const yes = ok(c.run(["scripts/clean.sh"], {}, { input: "yes\n" }));
    assert.ok(yes.calls.includes(svcDelete("mcp-server")));
  });

  test("DRY_RUN=1 prints every command and runs none", (t) => {
    const c = cloud(t);
    const r = ok(c.run(make("deploy", "iam", "clean"), { DRY_RUN: "1", YES: "1" }));
    assert.deepEqual(r.calls, [], "gcloud never ran");
    assert.deepEqual(c.state(), []);
    const printed = r.stderr.split("\n").filter((l) => l.startsWith("+ ")).map((l) => l.slice(2));
    const expected = [
      ...FIRST_DEPLOY.slice(0, -2), agentDeploy("<mcp-server-url>/mcp"),
      ...FIRST_IAM, ...CLEAN_IAM, ...CLEAN_SERVICES, ...CLEAN_ACCOUNTS, ...CLEAN_IMAGES,
    ];
    assert.deepEqual(printed.map((l) => l.replace(/'/g, "")), expected);
    assert.match(r.stderr, /would be granted: roles\/run\.invoker/);
    assert.match(r.stderr, /would be removed: roles\/aiplatform\.user/);
    assert.match(r.stderr, /Dry run: nothing was changed\.[\s\S]*Dry run: nothing was deleted\./);
  });

  test("DRY_RUN=1 BUILD=docker prints the docker commands without running docker", (t) => {
    const c = cloud(t);
    const r = ok(c.run(["scripts/deploy.sh"], { DRY_RUN: "1", BUILD: "docker" }, { docker: true }));
    assert.deepEqual([...r.calls, ...r.docker], []);
    assert.match(r.stderr, /\+ docker push us-central1-docker\.pkg\.dev\/my-project\/mcp-agent\/agent:t1/);
  });

  for (const script of ["deploy", "iam", "status", "proxy", "clean"]) {
    test(`${script}: names each missing required variable before any gcloud call`, (t) => {
      const c = cloud(t);
      for (const missing of ["PROJECT_ID", "REGION"]) {
        const r = c.run(make(script), { [missing]: "", YES: "1" });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, new RegExp(`error: ${missing} is required, e\\.g\\. make ${script} PROJECT_ID=my-project REGION=us-central1`));
        assert.deepEqual(r.calls, []);
      }
    });
  }

  test("a gcloud failure other than not-found stops clean, status and iam with gcloud's message", (t) => {
    const c = cloud(t);
    ok(c.run(make("deploy")));
    for (const script of ["clean", "status", "iam"]) {
      const r = c.run(make(script), { YES: "1", GCLOUD_LOGGED_OUT: "1" });
      assert.notEqual(r.code, 0, script);
      assert.match(r.stderr, /You do not currently have an active account selected/, script);
      assert.match(r.stderr, /error: could not read: gcloud /, script);
      assert.doesNotMatch(r.stdout + r.stderr, /already gone|not deployed|not bound|Clean\./, script);
      assert.equal(r.calls.length, 1, `${script} stops at the first failure: ${r.calls.join("\n")}`);
    }
    assert.ok(c.state().includes("service agent"), "nothing was deleted");
  });

  test("without gcloud on PATH the scripts say how to install it", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A PATH holding only what the scripts need besides gcloud (the machine may have a real gcloud).
    symlinkSync(execFileSync("/bin/bash", ["-c", "command -v dirname"], { encoding: "utf8" }).trim(), join(dir, "dirname"));
    const r = spawnSync("/bin/bash", ["scripts/iam.sh"], {
      cwd: root, encoding: "utf8", env: { PATH: dir, PROJECT_ID: "my-project", REGION: "us-central1" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: gcloud not found on PATH\. Install the Google Cloud CLI/);
  });
});
