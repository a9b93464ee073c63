// make deploy / iam / status / clean against a gcloud stand-in that records every call.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ROOT } from "./support/service.js";

const BIN = path.join(ROOT, "test/support/bin");
const DOCKER_BIN = path.join(ROOT, "test/support/docker-bin");
const P = "--project my-project";
const R = "--region us-central1 --project my-project";
const SA = "mcp-agent@my-project.iam.gserviceaccount.com";
const IMG = "us-central1-docker.pkg.dev/my-project/cloud-run-mcp";

let dir: string;
const log = (): string[] => (existsSync(path.join(dir, "log")) ? readFileSync(path.join(dir, "log"), "utf8").trim().split("\n").filter(Boolean) : []);
const resetLog = (): void => writeFileSync(path.join(dir, "log"), "");

function make(target: string, vars: Record<string, string> = {}, opts: { path?: string; env?: Record<string, string> } = {}) {
  const args = ["-s", target, ...Object.entries({ PROJECT_ID: "my-project", REGION: "us-central1", IMAGE_TAG: "v1", ...vars }).map(([k, v]) => `${k}=${v}`)];
  const r = spawnSync("make", args, {
    cwd: ROOT,
    encoding: "utf8",
    input: "",
    timeout: 30_000,
    env: { PATH: `${opts.path ?? BIN}:${process.env.PATH}`, HOME: dir, GCLOUD_LOG: path.join(dir, "log"), GCLOUD_STATE: path.join(dir, "state"), ...opts.env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const DEPLOY_FIRST = [
  `gcloud services enable run.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com aiplatform.googleapis.com iam.googleapis.com ${P}`,
  `gcloud artifacts repositories describe cloud-run-mcp --location us-central1 ${P}`,
  `gcloud artifacts repositories create cloud-run-mcp --repository-format docker --location us-central1 --description Images of the Cloud Run agent and MCP server ${P}`,
  `gcloud builds submit . --config cloudbuild.yaml --region us-central1 --substitutions _MCP_IMAGE=${IMG}/mcp-server:v1,_AGENT_IMAGE=${IMG}/agent:v1 ${P}`,
  `gcloud iam service-accounts describe ${SA} ${P}`,
  `gcloud iam service-accounts create mcp-agent --display-name Cloud Run agent (calls mcp-server and Vertex AI) ${P}`,
  `gcloud run deploy mcp-server --image ${IMG}/mcp-server:v1 --no-allow-unauthenticated --max-instances 10 --timeout 3600 --memory 512Mi --cpu 1 --concurrency 80 --set-env-vars FRANKFURTER_URL=https://api.frankfurter.dev/v1,GOOGLE_CLOUD_PROJECT=my-project ${R}`,
  `gcloud run services describe mcp-server --format value(status.url) ${R}`,
  `gcloud run deploy agent --image ${IMG}/agent:v1 --allow-unauthenticated --service-account ${SA} --session-affinity --timeout 300 --memory 512Mi --cpu 1 --max-instances 10 --set-env-vars MCP_SERVER_URL=https://mcp-server-a1b2c3d4e5-uc.a.run.app/mcp,MCP_AUTH=id-token,MCP_AUDIENCE=https://mcp-server-a1b2c3d4e5-uc.a.run.app,MODEL_PROVIDER=gemini,GOOGLE_GENAI_USE_VERTEXAI=true,GOOGLE_CLOUD_PROJECT=my-project,GOOGLE_CLOUD_LOCATION=global,GOOGLE_MODEL=gemini-2.5-flash ${R}`,
];
const IAM = [
  `gcloud run services add-iam-policy-binding mcp-server --member serviceAccount:${SA} --role roles/run.invoker --format none ${R}`,
  `gcloud projects add-iam-policy-binding my-project --member serviceAccount:${SA} --role roles/aiplatform.user --condition None --format none`,
];
const CLEAN_IAM = [
  `gcloud run services describe mcp-server ${R}`,
  `gcloud run services remove-iam-policy-binding mcp-server --member serviceAccount:${SA} --role roles/run.invoker --format none ${R}`,
  `gcloud projects remove-iam-policy-binding my-project --member serviceAccount:${SA} --role roles/aiplatform.user --condition None --format none`,
];
const CLEAN_SERVICES = [
  `gcloud run services describe agent ${R}`,
  `gcloud run services delete agent --quiet ${R}`,
  `gcloud run services describe mcp-server ${R}`,
  `gcloud run services delete mcp-server --quiet ${R}`,
];
const CLEAN_SA = [`gcloud iam service-accounts describe ${SA} ${P}`, `gcloud iam service-accounts delete ${SA} --quiet ${P}`];
const CLEAN_IMAGES = [
  `gcloud artifacts docker images delete ${IMG}/mcp-server --delete-tags --quiet ${P}`,
  `gcloud artifacts docker images delete ${IMG}/agent --delete-tags --quiet ${P}`,
];

describe("Cloud Run scripts", () => {
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("deploy runs the exact sequence, then a second run creates nothing", () => {
    const first = make("deploy");
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(log(), DEPLOY_FIRST);
    assert.match(first.out, /make iam PROJECT_ID=my-project/);
    resetLog();
    assert.equal(make("deploy").code, 0);
    const second = log();
    assert.ok(!second.some((l) => / create /.test(l)), second.join("\n"));
    assert.deepEqual(second, DEPLOY_FIRST.filter((l) => !/ create /.test(l)));
  });

  it("deploy with BUILD=docker builds and pushes both images locally", () => {
    const r = make("deploy", { BUILD: "docker" }, { path: `${DOCKER_BIN}:${BIN}` });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(log().slice(3, 8), [
      "gcloud auth configure-docker us-central1-docker.pkg.dev --quiet",
      `docker build --platform linux/amd64 -f mcp-server/Dockerfile -t ${IMG}/mcp-server:v1 .`,
      `docker push ${IMG}/mcp-server:v1`,
      `docker build --platform linux/amd64 -f agent/Dockerfile -t ${IMG}/agent:v1 .`,
      `docker push ${IMG}/agent:v1`,
    ]);
  });

  it("deploy with SSE keeps one conversation on one instance, or warns", () => {
    assert.equal(make("deploy", { MCP_TRANSPORT: "sse" }).code, 0);
    const mcp = log().find((l) => l.startsWith("gcloud run deploy mcp-server"))!;
    assert.match(mcp, /--max-instances 1 .*--session-affinity/);
    assert.match(log().find((l) => l.startsWith("gcloud run deploy agent"))!, /MCP_SERVER_URL=https:\/\/mcp-server-a1b2c3d4e5-uc\.a\.run\.app\/sse/);
    resetLog();
    const r = make("deploy", { MCP_TRANSPORT: "sse", MCP_MAX_INSTANCES: "3" });
    assert.match(r.err, /warning: SSE with 3 instances/);
  });

  it("iam grants exactly two roles, idempotently, and status sees them", () => {
    make("deploy");
    resetLog();
    const r = make("iam");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(log(), IAM);
    assert.match(r.out, /Granted/);
    assert.equal(make("iam").code, 0, "a second run fails on nothing");
    const status = make("status");
    assert.match(status.out, /mcp-server\s+https:\/\/mcp-server-/);
    assert.match(status.out, /ok\s+roles\/run\.invoker on mcp-server/);
    assert.match(status.out, /ok\s+roles\/aiplatform\.user on my-project/);
  });

  it("clean refuses without confirmation and without a terminal", () => {
    make("deploy");
    resetLog();
    const r = make("clean");
    assert.notEqual(r.code, 0);
    assert.match(r.err, /run again with YES=1/);
    assert.deepEqual(log(), []);
  });

  it("clean with YES=1 removes what deploy and iam made, and a second run fails on nothing", () => {
    make("deploy");
    make("iam");
    resetLog();
    const r = make("clean", { YES: "1" });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(log(), [...CLEAN_IAM, ...CLEAN_SERVICES, ...CLEAN_SA, ...CLEAN_IMAGES]);
    assert.ok(!log().some((l) => /services disable/.test(l)), "APIs are never disabled");
    assert.match(r.out, /To start again: make deploy && make iam/);
    assert.equal(make("clean", { YES: "1" }).code, 0);
  });

  it("clean honours KEEP_IMAGES=1 and KEEP_IAM=1", () => {
    make("deploy");
    make("iam");
    resetLog();
    assert.equal(make("clean", { YES: "1", KEEP_IMAGES: "1" }).code, 0);
    assert.deepEqual(log(), [...CLEAN_IAM, ...CLEAN_SERVICES, ...CLEAN_SA]);
    make("deploy");
    make("iam");
    resetLog();
    assert.equal(make("clean", { YES: "1", KEEP_IAM: "1" }).code, 0);
    assert.deepEqual(log(), [...CLEAN_SERVICES, ...CLEAN_IMAGES]);
  });

  it("DRY_RUN=1 prints every command and runs none", () => {
    for (const target of ["deploy", "iam", "clean"]) {
      const r = make(target, { DRY_RUN: "1" });
      assert.equal(r.code, 0, `${target}: ${r.err}`);
      assert.match(r.out, /^\+ gcloud /m, target);
    }
    const deploy = make("deploy", { DRY_RUN: "1" }).out;
    assert.match(deploy, /^\+ gcloud run deploy mcp-server .*--no-allow-unauthenticated/m);
    assert.match(deploy, /^\+ gcloud artifacts repositories create cloud-run-mcp/m);
    assert.deepEqual(log(), [], "nothing was executed");
  });

  it("names each missing required variable", () => {
    for (const target of ["deploy", "iam", "clean", "status"]) {
      const noProject = make(target, { PROJECT_ID: "" });
      assert.notEqual(noProject.code, 0);
      assert.match(noProject.err, /PROJECT_ID is not set/, target);
      const noRegion = make(target, { REGION: "" });
      assert.match(noRegion.err, /REGION is not set/, target);
    }
    assert.match(make("deploy", { PROJECT_ID: "Bad_Project" }).err, /not a valid project ID/);
    assert.match(make("deploy", { BUILD: "kaniko" }).err, /BUILD must be cloudbuild or docker/);
    assert.deepEqual(log().filter((l) => !/services enable|repositories/.test(l)), []);
  });
});
