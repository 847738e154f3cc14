/* Consent banner (README: "Consent banner"). No dependencies, eval or inline styles. */
(() => {
  'use strict';
  const d = document, w = window, cfg = d.getElementById('consent-config');
  if (!cfg || !w.fetch) return;
  const C = JSON.parse(cfg.textContent), T = C.texts, KEY = 'consent-pending';
  const NONCE = (d.currentScript || d.querySelector('script[nonce]') || {}).nonce || '';
  const GPC = C.gpc || navigator.globalPrivacyControl === true;
  const GCM = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
    'functionality_storage', 'personalization_storage', 'security_storage'];
  const banner = d.getElementById('consent-banner');
  const onSettingsPage = !!d.getElementById('consent-settings-form');
  let S = C.state, modal, opener, pageFocus, live, seq = 0;

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
  const optional = () => C.categories.filter(c => !c.required);
  const each = fn => C.categories.forEach(c => c.services.forEach(s => fn(s, c)));

  // As decision.resolve on the server.
  const resolve = (cats, svcs = {}) => {
    const st = { decided: true, categories: {}, services: {} };
    C.categories.forEach(c => {
      const on = !!(c.required || cats[c.name]);
      c.services.forEach(s => { st.services[s.name] = !!(c.required || (s.name in svcs ? svcs[s.name] : on)); });
      st.categories[c.name] = c.required || (c.services.length ? c.services.some(s => st.services[s.name]) : on);
    });
    return st;
  };

  const consentMode = st => {
    if (typeof w.gtag !== 'function') return;
    const m = {};
    GCM.forEach(t => { m[t] = 'denied'; });
    C.categories.forEach(c => (c.google_consent || []).forEach(t => { m[t] = st.categories[c.name] ? 'granted' : 'denied'; }));
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
  const clearCookies = st => {
    const host = location.hostname, labels = host.split('.'), domains = [''];
    if (labels.length > 1 && !/^[\d.]+$|:/.test(host)) {
      domains.push(';domain=' + host);
      if (labels.length > 2) domains.push(';domain=' + labels.slice(1).join('.'));
    }
    const names = d.cookie.split(';').map(c => c.split('=')[0].trim());
    each(s => st.services[s.name] || s.cookies.forEach(k => {
      const re = new RegExp('^' + k.name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      names.concat(k.name).forEach(n => n && re.test(n) && domains.forEach(dm => { d.cookie = n + '=;max-age=0;path=/' + dm; }));
    }));
  };
  // true: something allowed is refused now (a running script needs a reload)
  const apply = st => {
    let narrower = false;
    each(s => { if (S.services[s.name] && !st.services[s.name]) narrower = true; });
    S = st;
    consentMode(st);
    clearCookies(st);
    activate(st);
    return narrower;
  };

  // A decision waits in localStorage until the server has its receipt.
  const say = msg => {
    if (!live) d.body.append(live = h('p', { class: 'cc-sr', role: 'status' }));
    live.textContent = '';
    setTimeout(() => { live.textContent = msg; }, 50);
  };
  const forget = () => { try { localStorage.removeItem(KEY); } catch (e) { /**/ } };
  // decision_id makes a retry idempotent: the server stores each decision once.
  const send = (url, body) => {
    const my = ++seq;
    let n = 0;
    body.decision_id = body.decision_id || [...crypto.getRandomValues(new Uint8Array(16))]
      .map(b => b.toString(16).padStart(2, '0')).join('');
    try { localStorage.setItem(KEY, JSON.stringify({ u: url, b: body })); } catch (e) { /**/ }
    return new Promise(done => {
      const attempt = () => my === seq && fetch(url, {
        method: 'POST', credentials: 'same-origin', body: JSON.stringify(body), headers: {
          'Content-Type': 'application/json', Accept: 'application/json',
          'X-CSRFToken': (d.querySelector('meta[name="csrf-token"]') || {}).content } })
        .then(r => r.json().then(j => {
          if (r.ok) { if (my === seq) { forget(); S = j; } say(T.saved); done(); }
          else if (r.status === 400 && j.error !== 'csrf_failed') my === seq && forget();
          else throw r;
        }))
        .catch(() => { say(T.save_failed); setTimeout(attempt, Math.min(1000 << n++, 30000)); });
      attempt();
    });
  };
  const commit = (st, url, body) => {
    const narrower = apply(st);
    close(true);
    send(url, body).then(() => (narrower || onSettingsPage) && location.reload());
  };
  const decide = (cats, svcs) => {
    const body = { categories: {}, services: {}, source: 'banner' };
    optional().forEach(c => {
      body.categories[c.name] = !!cats[c.name];
      c.services.forEach(s => { if (s.name in svcs) body.services[s.name] = !!svcs[s.name]; });
    });
    commit(resolve(body.categories, body.services), C.endpoints.consent, body);
  };
  const all = on => decide(Object.fromEntries(optional().map(c => [c.name, on])), {});
  const withdraw = () => commit(resolve({}), C.endpoints.withdraw, { source: 'banner' });

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
    if (modal) { modal.remove(); modal = null; focusBack(opener); }
    else if (decided || (banner && !banner.hidden)) { hideBanner(); focusBack(pageFocus); }
  }
  const xButton = () => h('button', { type: 'button', class: 'cc-x', 'aria-label': T.close, onclick: () => close() }, '\u00d7');
  const gpcNote = () => GPC && h('p', { class: 'consent-gpc' }, T.gpc);

  const open = from => {
    if (modal) return;
    opener = from || d.activeElement;
    const boxes = {}, id = 'cc-' + seq;
    const box = (name, checked, label, cat) => h('label', { class: 'cc-toggle' },
      boxes[name] = h('input', { type: 'checkbox', checked: S.decided && checked, 'data-name': name, 'data-cat': cat }), ' ', label);
    const sync = ({ target: el }) => C.categories.forEach(c => {
      if (el === boxes['c:' + c.name]) c.services.forEach(s => { boxes[s.name].checked = el.checked; });
      else if (el.getAttribute('data-cat') === c.name) boxes['c:' + c.name].checked = c.services.some(s => boxes[s.name].checked);
    });
    const dl = s => h('dl', null, [[T.provider, s.provider], [T.purpose, s.purpose], [T.legal_basis, s.legal_basis],
      [T.transfer, s.transfer],
      s.cookies.length > 0 && [T.cookies, h('ul', null, s.cookies.map(k =>
        h('li', null, h('code', null, k.name), `: ${k.purpose} (${T.lifetime}: ${k.lifetime})`)))],
      [T.policy, h('a', { href: s.privacy_policy, rel: 'noopener' }, s.privacy_policy)],
    ].map(r => r && [h('dt', null, r[0]), h('dd', null, r[1])]));
    const pick = () => {
      const cats = {}, svcs = {};
      optional().forEach(c => {
        cats[c.name] = boxes['c:' + c.name].checked;
        c.services.forEach(s => { svcs[s.name] = boxes[s.name].checked; });
      });
      decide(cats, svcs);
    };
    const btn = (label, fn) => h('button', { type: 'button', class: 'consent-button', onclick: fn }, label);
    modal = h('div', { class: 'cc-backdrop' }, h('div', { class: 'cc-modal', role: 'dialog', 'aria-modal': 'true',
      'aria-labelledby': id, lang: C.lang, tabindex: '-1', onchange: sync },
      h('div', { class: 'cc-head' }, h('h2', { id }, T.title), xButton()),
      gpcNote(),
      h('p', null, T.essential_note + ' ' + T.withdraw_note),
      C.categories.map(c => h('section', { class: 'cc-cat', 'aria-labelledby': id + c.name },
        h('h3', { id: id + c.name }, c.required
          ? h('span', { class: 'cc-toggle' }, h('input', { type: 'checkbox', checked: true, disabled: true, id: id + 'r' + c.name }),
            ' ', h('label', { for: id + 'r' + c.name }, `${c.title}: ${T.always_on}`))
          : box('c:' + c.name, S.categories[c.name], c.title)),
        h('p', null, c.description),
        c.services.map(s => h('details', { class: 'consent-service' }, h('summary', null, `${T.details}: ${s.title}`),
          !c.required && box(s.name, S.services[s.name], s.title, c.name), dl(s))))),
      h('p', { class: 'consent-links' }, h('a', { href: C.links.privacy }, T.privacy), ' · ',
        h('a', { href: C.links.imprint }, T.imprint)),
      h('div', { class: 'consent-actions' }, btn(T.accept_all, () => all(true)), btn(T.reject_all, () => all(false)),
        btn(T.save, pick), S.decided && S.method !== 'gpc' && btn(T.withdraw, withdraw))));
    d.body.append(modal);
    modal.firstChild.focus();
  };

  d.addEventListener('keydown', e => {
    const layer = modal ? modal.firstChild : banner && !banner.hidden && banner.contains(d.activeElement) && banner;
    if (!layer) return;
    if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    if (e.key !== 'Tab' || !modal) return;
    const f = $$('a[href],button,input:not([disabled]),summary', layer).filter(el => el.offsetParent);
    const a = d.activeElement, edge = e.shiftKey ? a === f[0] || a === layer : a === f[f.length - 1];
    if (edge) { e.preventDefault(); f[e.shiftKey ? f.length - 1 : 0].focus(); }
  });
  d.addEventListener('focusin', e => {
    if (modal) { if (!modal.contains(e.target)) modal.firstChild.focus(); return; }
    // WCAG 2.4.11
    if (banner && !banner.hidden && !banner.contains(e.target)) {
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
    optional().forEach(c => c.services.forEach(s => {
      svcs[s.name] = s.name === svc || !!S.services[s.name];
      cats[c.name] = cats[c.name] || svcs[s.name];
    }));
    decide(cats, svcs);
  });

  let pending;
  try { pending = JSON.parse(localStorage.getItem(KEY)); } catch (e) { /**/ }
  if (pending && pending.u) {
    const narrower = apply(resolve(pending.b.categories || {}, pending.b.services));
    hideBanner();
    send(pending.u, pending.b).then(() => narrower && location.reload());
  }
  if (banner && !banner.hidden) {
    banner.setAttribute('role', 'dialog');
    banner.setAttribute('aria-modal', 'false');
    banner.setAttribute('tabindex', '-1');
    const note = gpcNote();
    if (note) banner.querySelector('h2').after(note);
    banner.prepend(xButton());
    pageFocus = d.activeElement;
    if (pageFocus === d.body) banner.focus({ preventScroll: true }); // never steal focus
  }
})();
