// The floor: a bare node:http server answering a fixed JSON body (BODY_BYTES long) on every path.
import { createServer } from "node:http";

const size = Number(process.env.BODY_BYTES ?? 15);
const body = JSON.stringify({ status: "ok", pad: "x".repeat(Math.max(0, size - 27)) });
createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(body));
}).listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", function () {
  console.log(
    JSON.stringify({ severity: "INFO", message: "floor listening", port: this.address().port }),
  );
});
