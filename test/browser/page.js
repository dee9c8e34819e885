// Junction browser test page (driven by test/integration/test_52_browser.py).
//
// Query string:
//   mqtt=ws://127.0.0.1:PORT/mqtt     MQTT over WebSocket (required)
//   stomp=ws://127.0.0.1:PORT/stomp   STOMP over WebSocket; without it the page
//                                     only checks MQTT to MQTT (used against a
//                                     broker that has no STOMP, e.g. Mosquitto)
//   mqtt_versions=4,5                 MQTT protocol levels to use (default 4,5)
//   timeout_ms=8000                   per-step time limit
//   misroute=1                        subscribe where nothing is published: every
//                                     delivery check must then FAIL (proves the
//                                     page can fail)
//
// Names follow README "Names across protocols": MQTT topic a/b is STOMP
// destination /topic/a/b.
//
// The outcome is written as JSON to <pre id="result"> and summed up in
// document.title ("PASS" or "FAIL: <failed checks>").
"use strict";

(function () {
  const query = new URLSearchParams(location.search);
  const mqttUrl = query.get("mqtt");
  const stompUrl = query.get("stomp");
  const versions = (query.get("mqtt_versions") || "4,5").split(",").map(Number);
  const timeoutMs = Number(query.get("timeout_ms") || 8000);
  const misroute = query.get("misroute") === "1";
  const run = Math.random().toString(36).slice(2, 10);
  const started = performance.now();

  document.getElementById("mqtt-url").textContent = mqttUrl || "(missing)";
  document.getElementById("stomp-url").textContent = stompUrl || "(none: MQTT only)";

  function log(text) {
    const t = ((performance.now() - started) / 1000).toFixed(3);
    document.getElementById("log").textContent += t + " " + text + "\n";
  }

  // ------------------------------------------------------------ check table

  const checks = [];

  function addCheck(name) {
    const row = document.createElement("tr");
    row.className = "wait";
    row.innerHTML = "<td></td><td>waiting</td><td></td><td></td>";
    row.cells[0].textContent = name;
    document.getElementById("checks").appendChild(row);
    const check = { name: name, ok: null, ms: null, detail: "", t0: performance.now(), row: row };
    checks.push(check);
    return check;
  }

  function settle(check, ok, detail) {
    if (check.ok !== null) return;
    check.ok = ok;
    check.ms = Math.round(performance.now() - check.t0);
    check.detail = detail || "";
    check.row.className = ok ? "pass" : "fail";
    check.row.cells[1].textContent = ok ? "PASS" : "FAIL";
    check.row.cells[2].textContent = String(check.ms);
    check.row.cells[3].textContent = check.detail;
    log((ok ? "PASS " : "FAIL ") + check.name + (detail ? ": " + detail : ""));
  }

  // Runs `body` (which returns a promise of a detail string) as one check with a time limit.
  async function step(name, body) {
    const check = addCheck(name);
    let timer;
    const limit = new Promise(function (_, reject) {
      timer = setTimeout(function () { reject(new Error("timed out after " + timeoutMs + " ms")); }, timeoutMs);
    });
    try {
      const detail = await Promise.race([body(), limit]);
      settle(check, true, detail);
      return true;
    } catch (e) {
      settle(check, false, e && e.message ? e.message : String(e));
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  // Messages a client received, and waits for one that matches.
  function Inbox(label) {
    this.label = label;
    this.messages = [];
    this.waiters = [];
  }
  Inbox.prototype.push = function (where, body) {
    log(this.label + " received on " + where + ": " + JSON.stringify(body));
    this.messages.push({ where: where, body: body });
    this.waiters = this.waiters.filter(function (w) { return !w.offer(where, body); });
  };
  Inbox.prototype.waitFor = function (where, body) {
    const inbox = this;
    return new Promise(function (resolve) {
      const w = {
        offer: function (gotWhere, gotBody) {
          if (gotWhere !== where || gotBody !== body) return false;
          resolve("received " + JSON.stringify(body) + " on " + where);
          return true;
        }
      };
      if (!inbox.messages.some(function (m) { return w.offer(m.where, m.body); })) inbox.waiters.push(w);
    });
  };

  // ------------------------------------------------------------ MQTT.js

  function mqttConnect(version) {
    return new Promise(function (resolve, reject) {
      const client = mqtt.connect(mqttUrl, {
        protocolVersion: version,
        clientId: "browser-" + run + "-v" + version,
        clean: true,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs
      });
      client.inbox = new Inbox("MQTT v" + version);
      client.on("message", function (topic, payload) {
        client.inbox.push(topic, new TextDecoder().decode(payload));
      });
      client.once("connect", function (connack) {
        resolve(client);
      });
      client.once("error", function (e) { reject(new Error("MQTT v" + version + ": " + e.message)); });
      client.once("close", function () { reject(new Error("MQTT v" + version + ": connection closed before CONNACK")); });
    });
  }

  function mqttSubscribe(client, filter) {
    return new Promise(function (resolve, reject) {
      client.subscribe(filter, { qos: 1 }, function (err, granted) {
        if (err) return reject(err);
        const code = granted && granted[0] ? granted[0].qos : -1;
        if (code < 0 || code >= 128) return reject(new Error("SUBACK refused " + filter + " (" + code + ")"));
        resolve("SUBACK qos " + code + " for " + filter);
      });
    });
  }

  function mqttPublish(client, topic, payload) {
    return new Promise(function (resolve, reject) {
      client.publish(topic, payload, { qos: 1 }, function (err) {
        if (err) reject(err); else resolve("PUBACK for " + topic);
      });
    });
  }

  function mqttClose(client) {
    return new Promise(function (resolve) { client.end(false, {}, resolve); });
  }

  // ------------------------------------------------------------ stompjs

  let receiptSeq = 0;

  function stompConnect() {
    return new Promise(function (resolve, reject) {
      const client = new StompJs.Client({
        brokerURL: stompUrl,
        stompVersions: new StompJs.Versions(["1.2"]),   // offers subprotocol v12.stomp
        reconnectDelay: 0,
        heartbeatIncoming: 10000,
        heartbeatOutgoing: 10000,
        connectionTimeout: timeoutMs,
        onConnect: function (frame) {
          resolve({ client: client, version: frame.headers.version, server: frame.headers.server || "" });
        },
        onStompError: function (frame) { reject(new Error("STOMP ERROR: " + frame.headers.message)); },
        onWebSocketError: function () { reject(new Error("STOMP WebSocket error")); },
        onWebSocketClose: function (ev) { reject(new Error("STOMP WebSocket closed, code " + ev.code)); }
      });
      client.inbox = new Inbox("STOMP");
      client.activate();
    });
  }

  function stompWithReceipt(client, send) {
    return new Promise(function (resolve) {
      const id = "r-" + run + "-" + (++receiptSeq);
      client.watchForReceipt(id, function () { resolve("RECEIPT " + id); });
      send(id);
    });
  }

  function stompSubscribe(client, destination) {
    return stompWithReceipt(client, function (receipt) {
      client.subscribe(destination, function (message) {
        client.inbox.push(message.headers.destination, message.body);
      }, { receipt: receipt });
    });
  }

  function stompSend(client, destination, body) {
    return stompWithReceipt(client, function (receipt) {
      client.publish({ destination: destination, body: body, headers: { receipt: receipt } });
    });
  }

  // ------------------------------------------------------------ the run

  function topicFor(version, direction) {
    return "browser/" + run + "/v" + version + "/" + direction;
  }
  function listenTopic(topic) {
    return misroute ? topic + "-elsewhere" : topic;
  }

  async function crossProtocol(mqttClients, stomp) {
    const arrivals = [];
    const subscribed = [];
    for (const v of versions) {
      const c = mqttClients[v];
      if (!c) continue;
      subscribed.push(step("MQTT v" + v + " SUBSCRIBE", function () {
        return mqttSubscribe(c, listenTopic(topicFor(v, "down")));
      }));
      subscribed.push(step("STOMP SUBSCRIBE for MQTT v" + v, function () {
        return stompSubscribe(stomp, "/topic/" + listenTopic(topicFor(v, "up")));
      }));
    }
    await Promise.all(subscribed);
    for (const v of versions) {
      const c = mqttClients[v];
      if (!c) continue;
      const up = topicFor(v, "up");
      const upBody = "from MQTT.js v" + v + " " + run;
      const arrivedUp = stomp.inbox.waitFor("/topic/" + up, upBody);
      arrivals.push(step("MQTT v" + v + " -> STOMP", async function () {
        await mqttPublish(c, up, upBody);
        return await arrivedUp;
      }));
      const down = topicFor(v, "down");
      const downBody = "from stompjs to MQTT v" + v + " " + run;
      const arrivedDown = c.inbox.waitFor(down, downBody);
      arrivals.push(step("STOMP -> MQTT v" + v, async function () {
        await stompSend(stomp, "/topic/" + down, downBody);
        return await arrivedDown;
      }));
    }
    await Promise.all(arrivals);
  }

  // Without STOMP: each MQTT client publishes, the next one (in version order) receives.
  async function mqttOnly(mqttClients) {
    const live = versions.filter(function (v) { return mqttClients[v]; });
    const subscribed = live.map(function (v) {
      return step("MQTT v" + v + " SUBSCRIBE", function () {
        return mqttSubscribe(mqttClients[v], listenTopic("browser/" + run + "/to-v" + v));
      });
    });
    await Promise.all(subscribed);
    const arrivals = live.map(function (v, i) {
      const to = live[(i + 1) % live.length];
      const topic = "browser/" + run + "/to-v" + to;
      const body = "from MQTT.js v" + v + " to v" + to + " " + run;
      const arrived = mqttClients[to].inbox.waitFor(topic, body);
      return step("MQTT v" + v + " -> MQTT v" + to, async function () {
        await mqttPublish(mqttClients[v], topic, body);
        return await arrived;
      });
    });
    await Promise.all(arrivals);
  }

  async function main() {
    log("run " + run + ", MQTT versions " + versions.join(",") + (misroute ? ", misroute" : ""));
    if (!mqttUrl) throw new Error("no mqtt= in the query string");
    const mqttClients = {};
    let stomp = null;
    const connects = versions.map(function (v) {
      return step("MQTT v" + v + " CONNECT", async function () {
        mqttClients[v] = await mqttConnect(v);
        return "CONNACK on " + mqttUrl;
      });
    });
    if (stompUrl) {
      connects.push(step("STOMP CONNECT", async function () {
        const s = await stompConnect();
        stomp = s.client;
        return "CONNECTED version " + s.version + " " + s.server + " (WebSocket subprotocol " +
          (stomp.webSocket ? stomp.webSocket.protocol : "?") + ")";
      }));
    }
    await Promise.all(connects);
    if (stompUrl) {
      if (stomp) await crossProtocol(mqttClients, stomp);
    } else {
      await mqttOnly(mqttClients);
    }
    const closing = Object.keys(mqttClients).map(function (v) { return mqttClose(mqttClients[v]); });
    if (stomp) closing.push(stomp.deactivate());
    await Promise.race([Promise.all(closing), new Promise(function (r) { setTimeout(r, 1000); })]);
  }

  function finish(error) {
    if (error) {
      const check = addCheck("page");
      settle(check, false, error.message || String(error));
    }
    const failed = checks.filter(function (c) { return !c.ok; });
    const status = failed.length === 0 && checks.length > 0 ? "PASS" : "FAIL";
    const result = {
      status: status,
      run: run,
      mqtt: mqttUrl,
      stomp: stompUrl,
      misroute: misroute,
      checks: checks.map(function (c) { return { name: c.name, ok: c.ok === true, ms: c.ms, detail: c.detail }; })
    };
    const verdict = document.getElementById("verdict");
    verdict.textContent = status + " (" + (checks.length - failed.length) + "/" + checks.length + " checks)";
    verdict.className = status === "PASS" ? "pass" : "fail";
    document.getElementById("result").textContent = JSON.stringify(result);
    document.title = status === "PASS" ? "PASS" : "FAIL: " + failed.map(function (c) { return c.name; }).join("; ");
  }

  main().then(function () { finish(null); }, finish);
})();
