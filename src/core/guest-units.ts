// The systemd units cloud-init installs in a real guest: the health server (restarted on
// failure) and the agent's workload through the per-run wrapper. Pure text builders.
import { GUEST_CONFIG_DIR, GUEST_GLOBAL, GUEST_INBOX, GUEST_USER } from "./guest-paths.js";

export const RUN_WRAPPER_PATH = "/usr/local/bin/agentshare-run";
export const HEALTH_SERVER_PATH = "/usr/local/lib/agentshare/health-server.mjs";
export const HEALTH_UNIT = "agentshare-health.service";
export const AGENT_UNIT = "agentshare-agent.service";
/** Where the health server says why it cannot listen (its RuntimeDirectory, kept across restarts). */
export const HEALTH_ERROR_FILE = "/run/agentshare-health/listen-error";
/** Seconds the error must stand, with /healthz unanswered, before the first-boot wait gives up. */
const ERROR_STANDS_S = 3;

/** The health server runs as root (it must read whatever the agent wrote) but may only read.
 *  A 1 MiB semi-space keeps ~1,000 idle SSE clients near 21 KiB each (docs/benchmarks.md). */
export function buildHealthUnit(o: { name: string; healthPort: number }): string {
  return `[Unit]
Description=agentshare health server: run logs over SSE on port ${o.healthPort}
After=network-online.target
Wants=network-online.target
RequiresMountsFor=${GUEST_INBOX} ${GUEST_GLOBAL}

[Service]
ExecStart=/usr/bin/env node --max-semi-space-size=1 ${HEALTH_SERVER_PATH} --inbox ${GUEST_INBOX} --global ${GUEST_GLOBAL} --port ${o.healthPort} --token-file ${GUEST_CONFIG_DIR}/token --agent ${o.name} --error-file ${HEALTH_ERROR_FILE}
RuntimeDirectory=agentshare-health
RuntimeDirectoryPreserve=yes
Restart=always
RestartSec=1
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
CapabilityBoundingSet=CAP_DAC_READ_SEARCH

[Install]
WantedBy=multi-user.target
`;
}

/** The agent's command, as the agent user, through the per-run wrapper: one run per boot. */
export function buildAgentUnit(o: { uid: number; gid: number }): string {
  return `[Unit]
Description=agentshare agent workload (each start is a run in ${GUEST_INBOX}/runs)
After=${HEALTH_UNIT}
RequiresMountsFor=${GUEST_INBOX} ${GUEST_GLOBAL}

[Service]
Type=exec
User=${o.uid}
Group=${o.gid}
WorkingDirectory=/home/${GUEST_USER}
Environment=HOME=/home/${GUEST_USER} TMPDIR=/tmp
ExecStart=${RUN_WRAPPER_PATH} -- /bin/sh ${GUEST_CONFIG_DIR}/command
StandardOutput=journal+console
StandardError=journal+console
Restart=no

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Waits (≤ 20 s of failed tries, each given up after 1 s without an answer) until the health
 * server answers its liveness probe; Node is the one tool every guest has. Exit 0 when it answers, 1 when it does not, 2 (printing the reason) when the server
 * has said for ${ERROR_STANDS_S} s in `errorFile` that it cannot listen (restarts did not help).
 */
export function waitForHealthScript(port: number, errorFile = HEALTH_ERROR_FILE): string {
  return (
    `node -e 'const h=require("http"),fs=require("fs");let n=0,since=0;` +
    `const bad=()=>{let e="";try{e=fs.readFileSync(${JSON.stringify(errorFile)},"utf8")}catch{}` +
    `if(!e){since=0;return}since=since||Date.now();` +
    `if(Date.now()-since>=${ERROR_STANDS_S * 1000}){process.stdout.write(e);process.exit(2)}};` +
    `const t=()=>h.get("http://127.0.0.1:${port}/healthz",{timeout:1000},r=>process.exit(r.statusCode===200?0:1))` +
    `.on("timeout",function(){this.destroy(new Error("no answer"))})` +
    `.on("error",()=>{bad();if(++n>200)process.exit(1);setTimeout(t,100)});t()'`
  );
}
