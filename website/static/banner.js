/* Consent banner: enhances the server-rendered first layer (#consent-banner), builds the second
   layer from the page's #consent-config, records decisions via POST /consent and activates inert
   tags and embeds. No dependencies, no eval, no inline styles (CSP without unsafe-inline). */
(function () {
  'use strict';
  var d = document, w = window, root = d.documentElement;
  var cfgEl = d.getElementById('consent-config');
  if (!cfgEl || !w.fetch) return;
  var C = JSON.parse(cfgEl.textContent), T = C.texts, S = C.state;
  var cs = d.currentScript, NONCE = (cs && cs.nonce) || (d.querySelector('script[nonce]') || {}).nonce || '';
  var KEY = 'consent-pending', GCM = ['ad_storage', 'ad_user_data', 'ad_personalization',
    'analytics_storage', 'functionality_storage', 'personalization_storage', 'security_storage'];
  var GPC = C.gpc || navigator.globalPrivacyControl === true;
  var banner = d.getElementById('consent-banner'), modal, opener, pageFocus, live, seq = 0;
  var store = w.localStorage;

  function $$(sel, el) { return [].slice.call((el || d).querySelectorAll(sel)); }
  // h('tag', {attr: value}, child, ...): children are nodes or text; null/false are skipped.
  function h(tag, attrs) {
    var el = d.createElement(tag), k;
    for (k in attrs) if (attrs[k] != null && attrs[k] !== false) {
      if (k === 'class') el.className = attrs[k];
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), attrs[k]);
      else el.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    [].slice.call(arguments, 2).forEach(function add(c) {
      if (Array.isArray(c)) c.forEach(add);
      else if (c != null && c !== false) el.append(c);
    });
    return el;
  }
  function optional() { return C.categories.filter(function (c) { return !c.required; }); }
  function each(fn) { C.categories.forEach(function (c) { c.services.forEach(function (s) { fn(s, c); }); }); }

  // The server's rule (decision.resolve): a service follows its category unless named.
  function resolve(cats, svcs) {
    var st = { decided: true, categories: {}, services: {} };
    C.categories.forEach(function (c) {
      var on = !!(c.required || cats[c.name]), any = false;
      c.services.forEach(function (s) {
        var v = !!(c.required || (s.name in svcs ? svcs[s.name] : on));
        st.services[s.name] = v; any = any || v;
      });
      st.categories[c.name] = c.required || (c.services.length ? any : on);
    });
    return st;
  }

  // --- effects of a decision -------------------------------------------------------------
  function consentMode(st) {
    if (typeof w.gtag !== 'function') return;
    var m = {};
    GCM.forEach(function (t) { m[t] = 'denied'; });
    C.categories.forEach(function (c) {
      (c.google_consent || []).forEach(function (t) { m[t] = st.categories[c.name] ? 'granted' : 'denied'; });
    });
    w.gtag('consent', 'update', m);
  }
  function allowed(st, el) {
    var s = el.getAttribute('data-service');
    return s ? st.services[s] : st.categories[el.getAttribute('data-consent')];
  }
  function activate(st) {
    $$('script[type="text/plain"][data-consent]').forEach(function (old) {
      if (!allowed(st, old)) return;
      var s = d.createElement('script'), src = old.getAttribute('data-src');
      s.nonce = NONCE;
      if (src) { s.src = src; s.async = true; } else s.text = old.text;
      old.replaceWith(s);
    });
    $$('.consent-placeholder[data-src]').forEach(function (p) {
      if (allowed(st, p)) p.replaceWith(h('iframe', { src: p.getAttribute('data-src'),
        title: p.getAttribute('data-title'), loading: 'lazy',
        allow: 'encrypted-media; picture-in-picture; fullscreen',
        referrerpolicy: 'strict-origin-when-cross-origin' }));
    });
  }
  // Delete first-party cookies of refused services, host-only and on the host and parent domain.
  function clearCookies(st) {
    var host = location.hostname, labels = host.split('.'), domains = [''];
    if (labels.length > 1 && !/^[\d.]+$|:/.test(host)) {
      domains.push(';domain=' + host);
      if (labels.length > 2) domains.push(';domain=' + labels.slice(1).join('.'));
    }
    var names = d.cookie.split(';').map(function (c) { return c.split('=')[0].trim(); });
    each(function (s) {
      if (st.services[s.name]) return;
      (s.cookies || []).forEach(function (k) {
        var re = new RegExp('^' + k.name.replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
        names.concat(k.name).forEach(function (n) {
          if (n && re.test(n)) domains.forEach(function (dm) {
            d.cookie = n + '=;max-age=0;path=/' + dm;
          });
        });
      });
    });
  }
  // Apply a state at once; true when something that was allowed is now refused.
  function apply(st) {
    var narrower = false;
    each(function (s) { if (S.services[s.name] && !st.services[s.name]) narrower = true; });
    S = st;
    consentMode(st);
    clearCookies(st);
    activate(st);
    return narrower;
  }

  // --- recording: POST with the CSRF header, retried until the server has it ----------------
  function say(msg) {
    if (!live) d.body.append(live = h('p', { class: 'cc-sr', role: 'status' }));
    live.textContent = '';
    setTimeout(function () { live.textContent = msg; }, 50);
  }
  function send(url, body) {
    var my = ++seq, n = 0;
    try { store.setItem(KEY, JSON.stringify({ u: url, b: body })); } catch (e) { /* private mode */ }
    return new Promise(function (done) {
      (function attempt() {
        if (my !== seq) return;
        var token = (d.querySelector('meta[name="csrf-token"]') || {}).content;
        fetch(url, { method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': token } })
          .then(function (r) {
            return r.json().then(function (j) {
              if (r.ok || (r.status === 400 && !/CSRF/.test(j.message))) {
                if (my === seq) try { store.removeItem(KEY); } catch (e) { /* ignore */ }
                if (!r.ok) throw 0;
                S = j; say(T.saved); done(j);
              } else throw 1;
            });
          })
          .catch(function (e) {
            if (e === 0) return;
            say(T.save_failed);
            setTimeout(attempt, Math.min(1000 << n++, 30000));
          });
      })();
    });
  }
  function decide(cats, svcs, source) {
    var body = { categories: {}, services: {}, source: source || 'banner' };
    optional().forEach(function (c) {
      body.categories[c.name] = !!cats[c.name];
      c.services.forEach(function (s) { if (s.name in svcs) body.services[s.name] = !!svcs[s.name]; });
    });
    var narrower = apply(resolve(body.categories, body.services));
    close(true);
    return send(C.endpoints.consent, body).then(function () { if (narrower) location.reload(); });
  }
  function all(on) {
    var cats = {};
    optional().forEach(function (c) { cats[c.name] = on; });
    return decide(cats, {});
  }
  function withdraw() {
    var narrower = apply(resolve({}, {}));
    close(true);
    return send(C.endpoints.withdraw, { source: 'banner' }).then(function () { if (narrower) location.reload(); });
  }

  // --- first layer: the server's #consent-banner becomes a non-modal dialog --------------------
  function hideBanner() { if (banner) banner.hidden = true; }
  // Focus goes back where it came from, else to the page's main content.
  function focusBack(t) {
    if (!t || t === d.body || !t.isConnected || t.closest('[hidden]')) {
      t = d.getElementById('main');
      if (t) t.setAttribute('tabindex', '-1');
    }
    if (t) t.focus({ preventScroll: t.id === 'main' });
  }
  function close(decided) {
    if (decided) hideBanner();
    if (modal) {
      modal.remove(); modal = null;
      focusBack(opener);
    } else if (banner && !banner.hidden || decided) { hideBanner(); focusBack(pageFocus); }
  }
  function gpcNote() { return GPC && h('p', { class: 'consent-gpc' }, T.gpc); }

  // --- second layer: categories, toggles, per-service details ----------------------------------
  function open(from) {
    if (modal) return;
    opener = from || d.activeElement;
    var undecided = !S.decided, boxes = {};
    function box(name, checked, label, extra) {
      return h('label', { class: 'cc-toggle' }, boxes[name] = h('input', { type: 'checkbox',
        checked: !undecided && checked, 'data-name': name, 'data-cat': extra }), ' ', label);
    }
    function sync(e) {
      var el = e.target, cat = el.getAttribute('data-cat');
      C.categories.forEach(function (c) {
        if (el === boxes['c:' + c.name]) c.services.forEach(function (s) { boxes[s.name].checked = el.checked; });
        else if (cat === c.name) boxes['c:' + c.name].checked = c.services.some(function (s) { return boxes[s.name].checked; });
      });
    }
    function dl(s) {
      var rows = [[T.provider, s.provider], [T.purpose, s.purpose], [T.legal_basis, s.legal_basis],
        [T.transfer, s.transfer],
        s.cookies.length > 0 && [T.cookies, h('ul', null, s.cookies.map(function (k) {
          return h('li', null, h('code', null, k.name), ': ' + k.purpose + ' (' + T.lifetime + ': ' + k.lifetime + ')');
        }))],
        [T.policy, h('a', { href: s.privacy_policy, rel: 'noopener' }, s.privacy_policy)]];
      return h('dl', null, rows.map(function (r) { return r && [h('dt', null, r[0]), h('dd', null, r[1])]; }));
    }
    function pick() {
      var cats = {}, svcs = {};
      optional().forEach(function (c) {
        cats[c.name] = boxes['c:' + c.name].checked;
        c.services.forEach(function (s) { svcs[s.name] = boxes[s.name].checked; });
      });
      decide(cats, svcs);
    }
    var btn = function (label, fn) { return h('button', { type: 'button', class: 'consent-button', onclick: fn }, label); };
    modal = h('div', { class: 'cc-backdrop' }, h('div', { class: 'cc-modal', role: 'dialog', 'aria-modal': 'true',
      'aria-labelledby': 'cc-title', lang: C.lang, tabindex: '-1', onchange: sync },
      h('div', { class: 'cc-head' }, h('h2', { id: 'cc-title' }, T.title),
        h('button', { type: 'button', class: 'cc-x', 'aria-label': T.close, onclick: function () { close(); } }, '\u00d7')),
      gpcNote(),
      h('p', null, T.essential_note + ' ' + T.withdraw_note),
      C.categories.map(function (c) {
        return h('section', { class: 'cc-cat', 'aria-labelledby': 'cc-c-' + c.name },
          h('h3', { id: 'cc-c-' + c.name }, c.required ? h('span', { class: 'cc-toggle' }, h('input', { type: 'checkbox',
            checked: true, disabled: true, id: 'cc-r-' + c.name }), h('label', { for: 'cc-r-' + c.name }, c.title + ': ' + T.always_on))
            : box('c:' + c.name, S.categories[c.name], c.title)),
          h('p', null, c.description),
          c.services.map(function (s) {
            return h('details', { class: 'consent-service' }, h('summary', null, T.details + ': ' + s.title),
              !c.required && box(s.name, S.services[s.name], s.title, c.name), dl(s));
          }));
      }),
      h('p', { class: 'consent-links' }, h('a', { href: C.links.privacy }, T.privacy), ' · ',
        h('a', { href: C.links.imprint }, T.imprint)),
      h('div', { class: 'consent-actions' }, btn(T.accept_all, function () { all(true); }),
        btn(T.reject_all, function () { all(false); }), btn(T.save, pick),
        S.decided && S.method !== 'gpc' && btn(T.withdraw, withdraw))));
    d.body.append(modal);
    modal.firstChild.focus();
  }

  // --- keyboard: focus trap in the modal, Escape closes without recording anything -------------
  d.addEventListener('keydown', function (e) {
    var layer = modal ? modal.firstChild : banner && !banner.hidden && banner.contains(d.activeElement) && banner;
    if (!layer) return;
    if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    if (e.key !== 'Tab' || !modal) return;
    var f = $$('a[href],button,input:not([disabled]),summary', layer).filter(function (el) { return el.offsetParent; });
    var first = f[0], last = f[f.length - 1], a = d.activeElement;
    if (e.shiftKey ? a === first || a === layer : a === last) { e.preventDefault(); (e.shiftKey ? last : first).focus(); }
  });
  d.addEventListener('focusin', function (e) {
    if (modal && !modal.contains(e.target)) modal.firstChild.focus();
    // WCAG 2.4.11: a page element focused behind the bottom banner is scrolled above it.
    else if (!modal && banner && !banner.hidden && !banner.contains(e.target)) {
      var r = e.target.getBoundingClientRect(), top = banner.getBoundingClientRect().top;
      if (r.bottom > top) w.scrollBy(0, r.bottom - top + 16);
    }
  });
  d.addEventListener('click', function (e) {
    var t = e.target.closest && e.target.closest('[data-consent-open],#consent-banner button[name=action]');
    if (!t || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (t.name === 'action') all(t.value === 'accept_all'); else open(t);
  });
  // Click-to-load embeds: grant this one service, keep every other grant.
  d.addEventListener('submit', function (e) {
    var p = e.target.closest('.consent-placeholder');
    if (!p) return;
    e.preventDefault();
    var svc = p.getAttribute('data-service'), cats = {}, svcs = {};
    optional().forEach(function (c) {
      cats[c.name] = S.categories[c.name];
      c.services.forEach(function (s) { svcs[s.name] = s.name === svc || !!S.services[s.name]; if (s.name === svc) cats[c.name] = true; });
    });
    decide(cats, svcs);
  });

  // --- start ------------------------------------------------------------------------------------
  var pending;
  try { pending = JSON.parse(store.getItem(KEY)); } catch (e) { pending = null; }
  if (pending && pending.u) {
    // A decision the server has not confirmed yet: apply it and send it again.
    var narrower = apply(pending.b.categories ? resolve(pending.b.categories, pending.b.services || {}) : resolve({}, {}));
    hideBanner();
    send(pending.u, pending.b).then(function () { if (narrower) location.reload(); });
  }
  if (banner && !banner.hidden) {
    banner.setAttribute('role', 'dialog');
    banner.setAttribute('aria-modal', 'false');
    banner.setAttribute('tabindex', '-1');
    banner.classList.add('cc-js');
    var note = gpcNote();
    if (note) banner.querySelector('h2').after(note);
    banner.prepend(h('button', { type: 'button', class: 'cc-x', 'aria-label': T.close, onclick: function () { close(); } }, '\u00d7'));
    pageFocus = d.activeElement;
    banner.focus({ preventScroll: true });
  }
}());
