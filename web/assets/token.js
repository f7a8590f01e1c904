// The admin (or read) token form: the token is kept in sessionStorage for this tab only.

import { t } from './i18n.js';
import { el } from './dom.js';
import { token, setToken } from './api.js';

let count = 0;

export function tokenForm(onChange = () => {}) {
  const id = `token-${++count}`;
  const state = el('p', { class: 'token-state', role: 'status' });
  const input = el('input', { id, type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', class: 'input' });
  const forget = el('button', { type: 'button', class: 'button button-secondary' }, t.tokenForget);
  const show = () => {
    state.textContent = token() ? t.tokenSet : t.tokenNone;
    forget.hidden = !token();
  };
  const form = el('form', { class: 'token-form', dataset: { token: '' } },
    el('label', { for: id }, t.token),
    el('div', { class: 'inline' }, input, el('button', { type: 'submit', class: 'button' }, t.tokenSave), forget),
    state);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    input.value = '';
    show();
    onChange();
  });
  forget.addEventListener('click', () => { setToken(''); show(); onChange(); });
  show();
  return form;
}
