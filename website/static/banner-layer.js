/* Second layer of the consent banner (docs/banner.md), loaded by banner.js when it first opens,
   with the catalog from /consent/catalog.<revision>.<lang>.json. A modal dialog: the page
   behind it is inert, focus stays inside, Escape or the X closes it without recording. */
window.__consentLayer = (core, cat) => {
  'use strict';
  const d = document, { C, h, $$ } = core, T = cat.texts, S = core.state();
  const boxes = {}, id = 'cc-m';
  const optional = cat.categories.filter(c => !c.required);
  // Real checkboxes, drawn as switches by banner-layer.css.
  const box = (name, checked, label, c) => h('label', { class: 'cc-toggle' },
    boxes[name] = h('input', { type: 'checkbox', class: 'cc-switch', checked: S.decided && checked, 'data-name': name, 'data-cat': c }), ' ', label);
  const sync = ({ target: el }) => optional.forEach(c => {
    if (el === boxes['c:' + c.name]) c.services.forEach(s => { boxes[s.name].checked = el.checked; });
    else if (el.getAttribute('data-cat') === c.name) boxes['c:' + c.name].checked = c.services.some(s => boxes[s.name].checked);
  });
  const kinds = T.storage_kinds.split('|'), KINDS = ['cookie', 'local_storage', 'session_storage', 'indexeddb'];
  // The server's messages carry %(name)s placeholders (gettext), filled in here.
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (m, k) => values[k]);
  const dl = s => h('dl', null, [[T.provider, s.provider], [T.purpose, s.purpose], [T.legal_basis, s.legal_basis],
    [T.data, s.data], [T.transfer, s.transfer],
    s.cookies.length > 0 && [T.cookies, h('ul', null, s.cookies.map(k =>
      h('li', null, h('code', null, k.name), ' ' + fmt(T.cookie_item, { kind: kinds[KINDS.indexOf(k.kind)], purpose: k.purpose, lifetime: k.lifetime }),
        k.justification && ' ' + fmt(T.justification_item, { justification: k.justification }))))],
    [T.policy, h('a', { href: s.privacy_policy, rel: 'noopener' }, s.privacy_policy)],
  ].map(r => r && [h('dt', null, r[0]), h('dd', null, r[1])]));
  const pick = () => {
    const cats = {}, svcs = {};
    optional.forEach(c => {
      cats[c.name] = boxes['c:' + c.name].checked;
      c.services.forEach(s => { svcs[s.name] = boxes[s.name].checked; });
    });
    core.decide(cats, svcs);
  };
  // "1 Dienst", "3 Dienste": counted by the server in the language's own plural rules.
  const count = c => h('span', { class: 'cc-count' }, cat.counts[c.name]);
  const btn = (label, fn) => h('button', { type: 'button', class: 'consent-button', onclick: fn }, label);
  const dialog = h('div', { class: 'cc-modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': id,
    lang: C.lang, tabindex: '-1', onchange: sync },
    h('div', { class: 'cc-head' }, h('h2', { id }, T.title), core.xButton()),
    h('div', { class: 'cc-body' },
      core.gpcNote(),
      h('p', null, T.essential_note + ' ' + T.withdraw_note),
      cat.categories.map(c => h('section', { class: 'cc-cat', 'aria-labelledby': id + c.name },
        h('h3', { id: id + c.name }, c.required
          ? h('span', { class: 'cc-toggle' }, h('input', { type: 'checkbox', class: 'cc-switch', checked: true, disabled: true, id: id + 'r' + c.name }),
            ' ', h('label', { for: id + 'r' + c.name }, fmt(T.always_on_label, { category: c.title })))
          : box('c:' + c.name, S.categories[c.name], c.title), count(c)),
        h('p', null, c.description),
        c.services.map(s => h('details', { class: 'consent-service' }, h('summary', null, fmt(T.details_label, { service: s.title })),
          !c.required && box(s.name, S.services[s.name], s.title, c.name), dl(s))))),
      h('p', { class: 'consent-links' }, h('a', { href: cat.links.privacy }, T.privacy), ' · ',
        h('a', { href: cat.links.imprint }, T.imprint))),
    // Sticky footer: the three choices are always in view, however long the list.
    h('div', { class: 'consent-actions cc-foot' }, btn(T.reject_all, () => core.all(false)),
      btn(T.accept_all, () => core.all(true)), btn(T.save, pick),
      S.decided && S.method !== 'gpc' && btn(T.withdraw, core.withdraw)));
  const modal = h('div', { class: 'cc-backdrop' }, dialog);

  // The page behind the dialog is inert: no focus, no clicks, hidden from screen readers.
  const behind = [...d.body.children].filter(el => !el.inert && el.id !== 'consent-status');
  const keys = e => {
    if (e.key === 'Escape') { e.preventDefault(); core.close(); return; }
    if (e.key !== 'Tab') return;
    const f = $$('a[href],button,input:not([disabled]),summary', dialog).filter(el => el.offsetParent);
    const a = d.activeElement, edge = e.shiftKey ? a === f[0] || a === dialog : a === f[f.length - 1];
    if (edge) { e.preventDefault(); f[e.shiftKey ? f.length - 1 : 0].focus(); }
  };
  const trap = e => { if (!dialog.contains(e.target)) dialog.focus(); };
  behind.forEach(el => { el.inert = true; });
  d.addEventListener('keydown', keys);
  d.addEventListener('focusin', trap);
  d.body.append(modal);
  dialog.focus();
  core.modal(() => {
    d.removeEventListener('keydown', keys);
    d.removeEventListener('focusin', trap);
    behind.forEach(el => { el.inert = false; });
    modal.remove();
  });
};
