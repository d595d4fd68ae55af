/*
 * realtime.js: a small browser client for the realtime gateway (no dependencies, no build).
 *
 *   <script src="{% static 'realtime/realtime.js' %}"></script>   (defines window.Realtime)
 *   // or, from a module: import "/static/realtime/realtime.js"; then use globalThis.Realtime
 *
 *   const socket = Realtime.connect("/chat/lobby/", {maxDelay: 10000});
 *   socket.on("open", () => socket.send("hello"));
 *   socket.on("message", (data) => console.log("got", data));   // string or ArrayBuffer
 *   socket.on("close", ({code, reason, wasClean, willReconnect, refused}) => { ... });
 *   const shout = socket.stream("shout");                         // WebsocketDemultiplexer streams
 *   shout.on((payload) => console.log(payload.shout));
 *   shout.send({text: "hi"});                                     // {"stream": "shout", "payload": {...}}
 *
 * Realtime.connect(pathOrUrl, options) -> socket. A relative path resolves against the page's
 * location, http -> ws and https -> wss. Options (defaults):
 *   initialDelay 1000 ms, maxDelay 30000 ms, factor 2, jitter 0.5: the n-th reconnect waits
 *     min(maxDelay, initialDelay * factor^(n-1)), minus up to jitter * 100 % at random;
 *   maxAttempts Infinity: reconnects in a row without an open before giving up;
 *   refusedAfter 3: attempts in a row that close before ever opening (a handshake refused with
 *     HTTP 403 looks like that: close 1006) before giving up as refused; 0 never gives up so.
 *     A server down that long looks the same: raise it where restarts take longer;
 *   retryCodes []: close codes to reconnect after besides 1001, 1006, 1011-1014 (none other
 *     by default: not after 1000, 1002, 1003, 1005, 1007-1010 nor 4000-4999 unless listed here);
 *   queueSize 100: messages kept while not connected, sent in order on (re)open before the
 *     "open" handlers run; a send to a full queue is dropped with an "error" event;
 *   protocols, binaryType "arraybuffer": as for WebSocket.
 *
 * socket.on(type, fn) / socket.off(type, fn), type one of:
 *   "open"         fn()                  connected (again); the counters start over
 *   "message"      fn(data, event)       every message, text (string) or binary (ArrayBuffer)
 *   "json"         fn(value)             every text message that parses as JSON
 *   "close"        fn({code, reason, wasClean, willReconnect, refused})
 *   "reconnecting" fn({attempt, delay})  a reconnect is scheduled in delay ms
 *   "error"        fn({type, message, data}), type: "queue-full" (data dropped), "closed"
 *                  (send after the socket stopped for good), "refused", "gave-up"
 *                  (WebSocket error events carry nothing: a "close" always follows them)
 * socket.send(data) -> true if sent now, false if queued or dropped; socket.sendJson(value)
 * socket.close(code = 1000, reason) stops for good; socket.reconnect() starts over (now)
 * socket.stream(name) -> {send(payload), on(fn), off(fn)}: fn(payload, frame) for that stream
 * socket.url, socket.connected (boolean), socket.stopped (boolean), socket.ws (the WebSocket)
 *
 * When the page goes into the browser's back/forward cache (pagehide, persisted) the socket
 * closes with 1000, so the server sees the user leave (presence, disconnect consumers); when
 * the page comes back (pageshow, persisted) it connects again and "open" runs again.
 */
(function (root) {
  "use strict";

  const RETRY = [1001, 1006, 1011, 1012, 1013, 1014];
  const TYPES = ["open", "message", "json", "close", "reconnecting", "error"];
  const DEFAULTS = {
    initialDelay: 1000, maxDelay: 30000, factor: 2, jitter: 0.5, maxAttempts: Infinity,
    refusedAfter: 3, retryCodes: [], queueSize: 100, protocols: undefined, binaryType: "arraybuffer",
  };

  function resolveUrl(pathOrUrl) {
    const url = new URL(pathOrUrl, root.location && root.location.href);
    if (url.protocol === "http:") url.protocol = "ws:";
    else if (url.protocol === "https:") url.protocol = "wss:";
    return url.href;
  }

  function report(error) { setTimeout(() => { throw error; }); } // a handler's error must not stop the others

  class Socket {
    constructor(pathOrUrl, options) {
      this.url = resolveUrl(pathOrUrl);
      this.options = Object.assign({}, DEFAULTS, options);
      this.ws = null;
      this.connected = false;
      this.stopped = false;
      this._handlers = new Map(TYPES.map((type) => [type, new Set()]));
      this._streams = new Map();
      this._queue = [];
      this._timer = null;
      this._attempts = 0; // reconnects since the last open
      this._unopened = 0; // closes before open, in a row
      this._cached = false; // closed because the page went into the back/forward cache
      if (root.addEventListener) {
        root.addEventListener("pagehide", (event) => this._pageHidden(event));
        root.addEventListener("pageshow", (event) => this._pageShown(event));
      }
      this._open();
    }

    on(type, fn) { this._set(type).add(fn); return this; }
    off(type, fn) { this._set(type).delete(fn); return this; }

    send(data) {
      if (this.connected && this.ws.readyState === WebSocket.OPEN) { this.ws.send(data); return true; }
      if (this.stopped) {
        this._emit("error", {type: "closed", message: "the socket is closed: message dropped", data});
      } else if (this._queue.length >= this.options.queueSize) {
        this._emit("error", {type: "queue-full", message: "the send queue is full: message dropped", data});
      } else {
        this._queue.push(data);
      }
      return false;
    }

    sendJson(value) { return this.send(JSON.stringify(value)); }

    stream(name) {
      const socket = this;
      if (!this._streams.has(name)) this._streams.set(name, new Set());
      const handlers = this._streams.get(name);
      return {
        name,
        send(payload) { return socket.sendJson({stream: name, payload}); },
        on(fn) { handlers.add(fn); return this; },
        off(fn) { handlers.delete(fn); return this; },
      };
    }

    close(code = 1000, reason) {
      const live = this.ws && this.ws.readyState < WebSocket.CLOSING;
      if (this.stopped && !live) return;
      this._stop();
      if (live) this.ws.close(code, reason); // the "close" event follows, willReconnect false
      else this._emit("close", {code, reason: reason || "", wasClean: true, willReconnect: false, refused: false});
    }

    reconnect() {
      const ws = this.ws;
      this._stop();
      if (ws) this._detach(ws, true);
      this.stopped = false;
      this._attempts = this._unopened = 0;
      this._open();
    }

    _pageHidden(event) {
      if (!event.persisted || this.stopped) return;
      this._cached = true;
      const ws = this.ws;
      this._stop();
      if (ws) this._detach(ws, true);
    }

    _pageShown(event) {
      if (!event.persisted || !this._cached) return;
      this._cached = false;
      this.reconnect();
    }

    _set(type) {
      const set = this._handlers.get(type);
      if (!set) throw new TypeError(`unknown event ${JSON.stringify(type)}, not one of ${TYPES.join(", ")}`);
      return set;
    }

    _emit(type, ...args) {
      for (const fn of [...this._handlers.get(type)]) {
        try { fn.apply(this, args); } catch (error) { report(error); }
      }
    }

    _stop() {
      this.stopped = true;
      this._queue = [];
      clearTimeout(this._timer);
      this._timer = null;
    }

    _detach(ws, close) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      if (close && ws.readyState < WebSocket.CLOSING) ws.close(1000);
      this.connected = false;
    }

    _open() {
      this._timer = null;
      const ws = new WebSocket(this.url, this.options.protocols);
      ws.binaryType = this.options.binaryType;
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.connected = true;
        this._attempts = this._unopened = 0;
        const queued = this._queue.splice(0);
        for (const data of queued) ws.send(data);
        this._emit("open");
      };
      ws.onmessage = (event) => this._receive(event);
      ws.onclose = (event) => {
        this._detach(ws, false);
        this._closed(ws, event, opened);
      };
    }

    _receive(event) {
      this._emit("message", event.data, event);
      if (typeof event.data !== "string" || (!this._handlers.get("json").size && !this._streams.size)) return;
      let value;
      try { value = JSON.parse(event.data); } catch (error) { return; }
      this._emit("json", value);
      if (value && typeof value === "object" && typeof value.stream === "string" && "payload" in value) {
        for (const fn of [...(this._streams.get(value.stream) || [])]) {
          try { fn.call(this, value.payload, value); } catch (error) { report(error); }
        }
      }
    }

    _closed(ws, event, opened) {
      const options = this.options;
      const {code, reason, wasClean} = event;
      const deliberate = this.stopped; // by close()
      const refused = !opened && !deliberate && options.refusedAfter > 0 && ++this._unopened >= options.refusedAfter;
      const retry = RETRY.includes(code) || options.retryCodes.includes(code);
      const gaveUp = this._attempts >= options.maxAttempts;
      const willReconnect = !deliberate && retry && !refused && !gaveUp;
      if (!willReconnect) this._stop();
      this._emit("close", {code, reason, wasClean, willReconnect, refused});
      if (refused) {
        this._emit("error", {type: "refused", message: `closed before opening ${this._unopened} times in a row`});
      } else if (gaveUp && retry && !deliberate) {
        this._emit("error", {type: "gave-up", message: `no open after ${this._attempts} reconnects`});
      }
      if (!willReconnect || this.stopped || this.ws !== ws) return; // a handler called close() or reconnect()
      const attempt = ++this._attempts;
      const nominal = Math.min(options.maxDelay, options.initialDelay * options.factor ** (attempt - 1));
      const delay = Math.round(nominal * (1 - options.jitter * Math.random()));
      this._timer = setTimeout(() => this._open(), delay);
      this._emit("reconnecting", {attempt, delay});
    }
  }

  const Realtime = {connect: (pathOrUrl, options) => new Socket(pathOrUrl, options), Socket, resolveUrl};
  if (typeof module === "object" && module.exports) module.exports = Realtime;
  root.Realtime = Realtime;
})(typeof globalThis !== "undefined" ? globalThis : this);
