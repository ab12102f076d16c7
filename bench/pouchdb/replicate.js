#!/usr/bin/env node
// The PouchDB baseline of server/examples/syncbench.rs --pouchdb (DESIGN.md "Targets").
//
//   node replicate.js SESSIONS.jsonl [DEVICE_PARENT_DIR]
//
// 1. Writes every line of the file (one JSON document each) into a local PouchDB (LevelDB, in
//    a fresh folder under DEVICE_PARENT_DIR, default the OS temp dir). Timed as `load_s`, not
//    counted in the sync figures. `_id` is the document's `id` (or `record.id`).
// 2. Starts a CouchDB-protocol server (express-pouchdb over PouchDB/LevelDB in a temp folder)
//    on 127.0.0.1:0 in a CHILD process, so `device_peak_rss_mb` is this process's alone.
// 3. PouchDB.replicate(local, remote) once (default batch settings): the first sync; then
//    again with nothing new: the idle sync.
// Prints ONE JSON line. The server counts requests and bytes on its sockets: `wire_bytes_*`
// are everything on the wire (HTTP headers included); `bytes_up`/`bytes_down` are bodies
// only (wire minus headers; responses as sent, i.e. gzipped by express-pouchdb when the client
// accepts it), the way syncbench counts its own.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { fork } = require('child_process');
const PouchDB = require('pouchdb-node');

if (process.argv[2] === '--serve') {
  serve(process.argv[3]);
} else {
  main(process.argv[2], process.argv[3] || os.tmpdir()).catch((e) => {
    console.error('replicate.js:', e && e.stack ? e.stack : e);
    process.exit(1);
  });
}

// ---- server (child process) ----

function serve(dir) {
  const express = require('express');
  const app = express();
  const ServerPouchDB = PouchDB.defaults({ prefix: dir + path.sep });
  app.use(require('express-pouchdb')(ServerPouchDB, { mode: 'minimumForPouchDB' }));

  const n = { requests: 0, wire_up: 0, wire_down: 0, headers_up: 0, headers_down: 0 };
  const live = new Set();
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  server.on('connection', (socket) => {
    live.add(socket);
    socket.on('close', () => {
      live.delete(socket);
      n.wire_up += socket.bytesRead;
      n.wire_down += socket.bytesWritten;
    });
  });
  server.on('request', (req, res) => {
    n.requests += 1;
    // The request head as it came: "METHOD URL HTTP/x.y\r\n" + "Name: value\r\n"… + "\r\n".
    let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n\r\n`.length;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      head += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`);
    }
    n.headers_up += head;
    res.on('finish', () => {
      n.headers_down += Buffer.byteLength(res._header || '');
    });
  });
  process.on('message', (m) => {
    if (m === 'stats') {
      const s = { ...n };
      for (const socket of live) {
        s.wire_up += socket.bytesRead;
        s.wire_down += socket.bytesWritten;
      }
      process.send({ stats: s });
    } else if (m === 'stop') {
      process.send({ rss_mb: peakRssMb() });
      process.exit(0);
    }
  });
}

// ---- device (this process) ----

async function main(file, deviceParent) {
  if (!file) throw new Error('usage: node replicate.js SESSIONS.jsonl [DEVICE_PARENT_DIR]');
  const deviceDir = fs.mkdtempSync(path.join(deviceParent, 'pouchdb-device-'));
  const serverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pouchdb-server-'));
  try {
    return await bench(file, deviceDir, serverDir);
  } finally {
    fs.rmSync(deviceDir, { recursive: true, force: true });
    fs.rmSync(serverDir, { recursive: true, force: true });
  }
}

async function bench(file, deviceDir, serverDir) {
  // 1. The device's documents (not counted).
  const local = new PouchDB(path.join(deviceDir, 'device'));
  let t = process.hrtime.bigint();
  let records = 0;
  let docBytes = 0;
  let batch = [];
  for await (const line of readline.createInterface({ input: fs.createReadStream(file) })) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line);
    const id = doc.id || (doc.record && doc.record.id);
    if (!id) throw new Error(`line ${records + 1}: no id`);
    const withId = { _id: String(id), ...doc };
    docBytes += Buffer.byteLength(JSON.stringify(withId));
    batch.push(withId);
    records += 1;
    if (batch.length === 500) {
      await local.bulkDocs(batch);
      batch = [];
    }
  }
  if (batch.length) await local.bulkDocs(batch);
  batch = null;
  const loadS = seconds(t);

  // 2. The server, in a child process.
  const child = fork(__filename, ['--serve', serverDir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ask = (m, key) =>
    new Promise((resolve, reject) => {
      const on = (r) => {
        if (r[key] !== undefined) {
          child.off('message', on);
          resolve(r[key]);
        }
      };
      child.on('message', on);
      child.once('exit', () => reject(new Error('the server exited')));
      if (m) child.send(m);
    });
  const port = await ask(null, 'port');
  const remote = new PouchDB(`http://127.0.0.1:${port}/sessions`);

  // 3. First sync, then idle sync.
  const rssScope = resetPeakRss() ? 'sync' : 'whole_run';
  const s0 = await ask('stats', 'stats');
  t = process.hrtime.bigint();
  const first = await PouchDB.replicate(local, remote);
  const firstS = seconds(t);
  const s1 = await ask('stats', 'stats');
  t = process.hrtime.bigint();
  const idle = await PouchDB.replicate(local, remote);
  const idleMs = seconds(t) * 1000;
  const s2 = await ask('stats', 'stats');
  const devicePeakRss = peakRssMb();

  const held = (await remote.info()).doc_count;
  const serverRss = await ask('stop', 'rss_mb');
  await local.close();
  if (first.docs_written !== records || held !== records) {
    throw new Error(`first sync wrote ${first.docs_written} of ${records}; server holds ${held}`);
  }

  const d = (a, b) => ({
    requests: b.requests - a.requests,
    up: b.wire_up - a.wire_up - (b.headers_up - a.headers_up),
    down: b.wire_down - a.wire_down - (b.headers_down - a.headers_down),
    wire_up: b.wire_up - a.wire_up,
    wire_down: b.wire_down - a.wire_down,
  });
  const f = d(s0, s1);
  const i = d(s1, s2);
  const out = {
    records,
    first_sync_s: round(firstS, 3),
    requests: f.requests,
    bytes_up: f.up,
    bytes_down: f.down,
    idle_sync_requests: i.requests,
    idle_sync_bytes: i.up + i.down,
    device_peak_rss_mb: round(devicePeakRss, 1),
    wire_bytes_up: f.wire_up,
    wire_bytes_down: f.wire_down,
    idle_sync_wire_bytes: i.wire_up + i.wire_down,
    idle_sync_ms: round(idleMs, 1),
    idle_docs_written: idle.docs_written,
    rss_peak_scope: rssScope,
    server_peak_rss_mb: round(serverRss, 1),
    doc_json_avg_bytes: Math.round(docBytes / Math.max(records, 1)),
    load_s: round(loadS, 3),
    pouchdb_version: PouchDB.version,
    node_version: process.version,
  };
  console.log(JSON.stringify(out));
}

function seconds(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function round(x, digits) {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

// VmHWM of this process in MB (-1 when /proc is not there).
function peakRssMb() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : -1;
  } catch {
    return -1;
  }
}

// Resets VmHWM to the current RSS (Linux >= 4.0), as syncbench does for its device.
function resetPeakRss() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}
