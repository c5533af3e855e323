// The test page's side: one vendor connection (the global `conn`, also WebIM.conn), with every
// event of both handler styles (`listen` and `addEventHandler`) reported to the test through
// window.__report(kind, json). The test drives the SDK with page.evaluate; compat.run wraps a
// call so that a rejection comes back as data, not as a thrown page error.
/* global websdk */
(function () {
  'use strict';
  // The vendor bundles define the global websdk (its default export is WebIM); seen's SDK
  // defines WebIM itself.
  var WebIM = typeof websdk !== 'undefined' ? websdk.default || websdk : window.WebIM;
  window.WebIM = WebIM;

  /** plain turns a value into JSON-able data; an Error keeps its name and message. */
  function plain(x) {
    if (x === undefined) return null;
    var seen = new WeakSet();
    return JSON.parse(
      JSON.stringify(x, function (k, v) {
        if (v instanceof Error) return Object.assign({ name: v.name, message: v.message }, v);
        if (typeof v === 'bigint') return String(v);
        if (typeof v === 'function') return undefined;
        if (v && typeof v === 'object') {
          if (seen.has(v)) return '[cycle]';
          seen.add(v);
        }
        return v;
      })
    ) ?? null;
  }

  function report(kind, payload) {
    try {
      window.__report(kind, JSON.stringify(plain(payload)));
    } catch (e) {
      window.__report(kind, JSON.stringify({ unreportable: String(e) }));
    }
  }

  var events = [
    'onOpened', 'onConnected', 'onClosed', 'onDisconnected', 'onReconnecting', 'onError',
    'onTextMessage', 'onCustomMessage', 'onCmdMessage', 'onReadMessage', 'onDeliveredMessage',
    'onChannelMessage', 'onReceivedMessage', 'onStatisticMessage', 'onGroupEvent', 'onGroupChange',
    'onTokenWillExpire', 'onTokenExpired', 'onRecallMessage', 'onOnline', 'onOffline',
  ];

  function handlers(prefix) {
    var h = {};
    events.forEach(function (name) {
      h[name] = function (e) {
        report(prefix + ':' + name, e);
      };
    });
    return h;
  }

  window.compat = {
    /** init makes the connection exactly as an app switching to seen would. */
    init: function (opts) {
      var conn = new WebIM.connection({ appKey: opts.appKey, isHttpDNS: false, url: opts.url, apiUrl: opts.apiUrl, delivery: !!opts.delivery });
      window.conn = conn;
      WebIM.conn = conn;
      conn.listen(handlers('listen'));
      conn.addEventHandler('compat', handlers('handler'));
      return true;
    },
    /** run evaluates a function's source with arg and settles it as {ok, value} or {ok, error}. */
    run: async function (src, arg) {
      try {
        var f = (0, eval)('(' + src + ')');
        return { ok: true, value: plain(await f(arg)) };
      } catch (e) {
        return { ok: false, error: plain(e) };
      }
    },
    /** send creates a message with WebIM.message.create(params), sends it and returns its ids. */
    send: async function (params) {
      var m = WebIM.message.create(params);
      var res = await window.conn.send(m);
      return { id: m.id, localMsgId: res && res.localMsgId, serverMsgId: res && res.serverMsgId };
    },
    report: report,
  };
})();
