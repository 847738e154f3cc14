/* Consent banner core: first layer, recording, activation, window.consent (docs/banner.md).
   Nothing optional runs before POST /consent answered 2xx (the receipt is stored). */
(() => {
  'use strict';
  const d = document, w = window, cfg = d.getElementById('consent-config');
  if (!cfg || !w.fetch) return;
  const C = JSON.parse(cfg.textContent), T = C.texts, E = C.endpoints, KEY = 'consent-pending';
  const me = d.currentScript || d.querySelector('script[nonce]') || {}, NONCE = me.nonce || '';
  const part = ext => (me.src || '').replace(/banner(\.min)?\.js.*/, 'banner-layer$1.' + ext);
  const GCM = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
    'functionality_storage', 'personalization_storage', 'security_storage'];
  const banner = d.getElementById('consent-banner');
  const onSettingsPage = !!d.getElementById('consent-settings-form');
  const waiting = [];
  let S = {}, live, seq = 0, opener, pageFocus, layer, closeModal;

  const $$ = (sel, el) => [...(el || d).querySelectorAll(sel)];
  const h = (tag, attrs, ...kids) => {
    const el = d.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...kids.flat(2).filter(c => c != null && c !== false));
    return el;
  };
  const on = o => Object.keys(o).filter(k => o[k]);
  const detail = () => ({ decided: S.decided, method: S.method, categories: on(S.categories), services: on(S.services) });
  const fire = type => d.dispatchEvent(new CustomEvent('consent:' + type, { detail: detail() }));

  // A Consent Mode type is granted only by a granted service that declares it (catalog).
  const consentMode = st => {
    if (typeof w.gtag !== 'function') return;
    const m = {};
    GCM.forEach(t => { m[t] = 'denied'; });
    for (const s in C.gcm) if (st.services[s]) C.gcm[s].forEach(t => { m[t] = 'granted'; });
    w.gtag('consent', 'update', m);
  };
  const allowed = (st, el) => {
    const s = el.getAttribute('data-service');
    return s ? st.services[s] : st.categories[el.getAttribute('data-consent')];
  };
  const activate = st => {
    $$('script[type="text/plain"][data-consent]').forEach(old => {
      if (!allowed(st, old)) return;
      const s = d.createElement('script'), src = old.getAttribute('data-src');
      s.nonce = NONCE;
      if (src) { s.src = src; s.async = true; } else s.text = old.text;
      old.replaceWith(s);
    });
    $$('.consent-placeholder[data-src]').forEach(p => allowed(st, p) && p.replaceWith(h('iframe', {
      src: p.getAttribute('data-src'), title: p.getAttribute('data-title'), loading: 'lazy',
      allow: 'encrypted-media; picture-in-picture; fullscreen', referrerpolicy: 'strict-origin-when-cross-origin' })));
  };
  // true: something allowed is refused now (a running script needs a reload)
  const apply = st => {
    const narrower = Object.keys(S.services).some(s => S.services[s] && !st.services[s]);
    S = { decided: st.decided, method: st.method, categories: st.categories, services: st.services };
    consentMode(st);
    activate(st);
    fire('change');
    // Tag Manager triggers can listen for this event (docs/banner.md, GTM recipe).
    if (w.dataLayer) { const x = detail(); w.dataLayer.push({ event: 'consent_change', consent_categories: x.categories, consent_services: x.services }); }
    for (let i = waiting.length; i--;) if (S.services[waiting[i][0]]) waiting.splice(i, 1)[0][1](detail());
    return narrower;
  };

  // The status line: visible while a choice is pending, announced to screen readers.
  const say = (msg, pending) => {
    if (!live) d.body.append(live = h('p', { class: 'cc-status', role: 'status', id: 'consent-status' }));
    live.classList.toggle('cc-pending', !!pending);
    live.textContent = '';
    setTimeout(() => { live.textContent = msg; }, 50);
  };
  const forget = () => { try { localStorage.removeItem(KEY); } catch (e) { /**/ } };
  let token = (d.querySelector('meta[name="csrf-token"]') || {}).content;
  // A stale CSRF token (session cookie gone) is replaced by a fresh one from GET /consent.
  const freshToken = () => fetch(E.consent, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then(r => r.json()).then(j => { token = j.csrf_token || token; });
  // decision_id makes a retry idempotent: the server stores each decision once.
  // Resolves with the server's state once the receipt is stored; never on failure.
  const send = (url, body) => {
    const my = ++seq;
    let n = 0;
    body.decision_id = body.decision_id || [...crypto.getRandomValues(new Uint8Array(16))]
      .map(b => b.toString(16).padStart(2, '0')).join('');
    try { localStorage.setItem(KEY, JSON.stringify({ u: url, b: body })); } catch (e) { /**/ }
    return new Promise(done => {
      const retry = (after) => {
        say(T.pending, true);
        setTimeout(attempt, Math.max(after || 0, Math.min(1000 << n++, 30000)));
      };
      const attempt = () => my === seq && fetch(url, {
        method: 'POST', credentials: 'same-origin', body: JSON.stringify(body), headers: {
          'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': token } })
        .then(r => r.json().catch(() => ({})).then(j => {
          if (r.ok) { if (my === seq) { forget(); say(T.saved); done(j); } }
          else if (j.error === 'csrf_failed') freshToken().then(() => retry(), () => retry());
          else if (r.status >= 400 && r.status < 500) { if (my === seq) forget(); }
          else retry(1000 * (parseInt(r.headers.get('Retry-After'), 10) || 0));
        }), () => retry());
      attempt();
    });
  };
  // Hide the layers at once; load what the choice allows only after the receipt is stored.
  // A narrower choice reloads the page: the server expires the refused services' cookies.
  const commit = (url, body) => {
    close(true);
    send(url, body).then(st => { if (apply(st) || onSettingsPage) location.reload(); });
  };
  const decide = (cats, svcs) => {
    const body = { categories: {}, services: {}, method: 'banner', lang: C.lang };
    for (const c in C.cats) {
      body.categories[c] = !!cats[c];
      C.cats[c].forEach(s => { if (s in svcs) body.services[s] = !!svcs[s]; });
    }
    commit(E.consent, body);
  };
  const all = yes => decide(Object.fromEntries(Object.keys(C.cats).map(c => [c, yes])), {});
  const withdraw = () => commit(E.withdraw, { method: 'banner', lang: C.lang });

  const hideBanner = () => { if (banner) banner.hidden = true; };
  const focusBack = t => {
    if (!t || t === d.body || !t.isConnected || t.closest('[hidden]')) {
      t = d.getElementById('main');
      if (t) t.setAttribute('tabindex', '-1');
    }
    if (t) t.focus({ preventScroll: t.id === 'main' });
  };
  function close(decided) {
    if (decided) hideBanner();
    if (closeModal) { closeModal(); closeModal = null; focusBack(opener); }
    else if (decided || (banner && !banner.hidden)) { hideBanner(); focusBack(pageFocus); }
  }
  const xButton = () => h('button', { type: 'button', class: 'cc-x', 'aria-label': T.close, onclick: () => close() }, '\u00d7');
  const gpcNote = () => (C.gpc || navigator.globalPrivacyControl === true) && h('p', { class: 'consent-gpc' }, T.gpc);

  // The second layer: its script, stylesheet and catalog arrive on first use (then cached).
  const core = { C, h, $$, decide, all, withdraw, close, xButton, gpcNote, state: () => S,
    modal: fn => { closeModal = fn; } };
  const get = (tag, attrs) => new Promise((ok, fail) => d.head.append(h(tag, { ...attrs, onload: ok, onerror: fail })));
  const open = from => {
    if (closeModal) return;
    opener = from || d.activeElement;
    layer = layer || Promise.all([
      fetch(E.catalog, { headers: { Accept: 'application/json' } }).then(r => r.ok ? r.json() : Promise.reject(r)),
      get('link', { rel: 'stylesheet', href: part('css') }),
      get('script', { src: part('js'), nonce: NONCE }),
    ]);
    // Without its parts (offline, an old page after a catalog change) the settings page does it.
    layer.then(([cat]) => closeModal || w.__consentLayer(core, cat), () => { location.href = E.settings; });
  };

  // Public API (docs/banner.md). Changes are announced only after the server stored them.
  w.consent = {
    get: detail,
    granted: name => !!S.services[name],
    whenGranted: name => new Promise(ok => S.services[name] ? ok(detail()) : waiting.push([name, ok])),
    open: () => open(),
    onChange: fn => d.addEventListener('consent:change', e => fn(e.detail)),
  };
  // Deferred site scripts run after this one: they hear "ready" with the current decision.
  d.addEventListener('DOMContentLoaded', () => fire('ready'));

  // Controls that open the dialog are links without JavaScript; with it they are buttons.
  $$('a[data-consent-open]').forEach(a => a.replaceWith(h('button', { type: 'button', class: a.className || 'cc-link',
    'data-consent-open': true, 'aria-haspopup': 'dialog', 'aria-label': a.getAttribute('aria-label') }, ...a.childNodes)));

  d.addEventListener('keydown', e => {
    if (e.key === 'Escape' && !closeModal && banner && !banner.hidden && banner.contains(d.activeElement)) {
      e.preventDefault();
      close();
    }
  });
  d.addEventListener('focusin', e => {
    // WCAG 2.4.11: a page element focused behind the first layer is scrolled above it.
    if (!closeModal && banner && !banner.hidden && !banner.contains(e.target)) {
      const over = e.target.getBoundingClientRect().bottom - banner.getBoundingClientRect().top;
      if (over > 0) w.scrollBy(0, over + 16);
    }
  });
  d.addEventListener('click', e => {
    const t = e.target.closest && e.target.closest('[data-consent-open],#consent-banner button[name=action]');
    if (!t || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (t.name === 'action') all(t.value === 'accept_all'); else open(t);
  });
  d.addEventListener('submit', e => {
    const p = e.target.closest('.consent-placeholder'), svc = p && p.getAttribute('data-service');
    if (!p) return;
    e.preventDefault();
    const cats = {}, svcs = {};
    for (const c in C.cats) C.cats[c].forEach(s => {
      svcs[s] = s === svc || !!S.services[s];
      cats[c] = cats[c] || svcs[s];
    });
    decide(cats, svcs);
  });

  // The state the server rendered: the granted services; a category follows its services.
  const services = {}, categories = {};
  C.granted.forEach(n => { services[n] = true; });
  C.required.forEach(n => { categories[n] = true; });
  for (const c in C.cats) categories[c] = C.cats[c].some(n => services[n]);
  S = { decided: C.decided, method: C.method, categories, services };

  let pending;
  try { pending = JSON.parse(localStorage.getItem(KEY)); } catch (e) { /**/ }
  // A choice from an earlier page that the server has not acknowledged: activate nothing,
  // say so, and send it again.
  if (pending && pending.u && pending.b) {
    hideBanner();
    commit(pending.u, pending.b);
  }
  if (banner && !banner.hidden) {
    banner.setAttribute('role', 'dialog');
    banner.setAttribute('aria-modal', 'false');
    banner.setAttribute('tabindex', '-1');
    const note = gpcNote();
    if (note) banner.querySelector('h2').after(note);
    (banner.querySelector('.cc-text') || banner).prepend(xButton());
    pageFocus = d.activeElement;
    if (pageFocus === d.body) banner.focus({ preventScroll: true }); // never steal focus
  }
})();
