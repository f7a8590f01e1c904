// Texts for people and number/date formats, in the page's language (<html lang>).
// Every text the server sends comes as {ja, en}; tr() picks the page's one.

export const lang = document.documentElement.lang === 'en' ? 'en' : 'ja';
const locale = lang === 'ja' ? 'ja-JP' : 'en-GB';

const texts = {
  ja: {
    site: '医療機器基本計画 KPI 状況',
    overview: '概要',
    overviewTitle: '第2期医療機器基本計画 KPI の状況',
    overviewLead: '11 の目標について、KPI の推移、最新の数値、発生中のアラートと未提出の数値をまとめています。',
    goal: (n) => `目標${n}`,
    alerts: 'アラート',
    alertsTitle: 'アラート一覧',
    alert: 'アラート',
    firingNow: '発生中のアラート',
    firingNone: '発生中のアラートはありません',
    overdue: '提出期限を過ぎた数値',
    overdueNone: '提出期限を過ぎた数値はありません',
    overdueCount: (n) => `未提出 ${n}件`,
    count: (n) => `${n}件`,
    latest: '最新の数値',
    change: '前回比',
    noChange: '前回と同じ',
    noFigure: 'まだ数値がありません',
    reportedBy: '報告機関',
    series: '系列',
    seriesCount: (n) => `系列 ${n}件`,
    moreSeries: (n, total) => `${total}系列のうち${n}系列を表示`,
    moreRows: 'さらに表示',
    items: '項目',
    trendOf: (name) => `${name}の推移`,
    chartData: 'グラフの数値',
    period: '期間',
    value: '数値',
    source: '出典',
    note: '備考',
    submittedBy: '提出者',
    submittedAt: '提出日時',
    revision: '版',
    figures: '数値の一覧',
    downloadCsv: 'CSV をダウンロード',
    goalAlerts: 'この目標のアラート',
    noAlerts: '該当するアラートはありません',
    viewGoal: '目標の詳細',
    severity: '重要度',
    state: '状態',
    kpi: 'KPI',
    since: '発生日時',
    labels: 'ラベル',
    anyLabel: 'ラベル（名前=値）',
    anyLabelHint: '例: body=amed',
    all: 'すべて',
    filter: '絞り込む',
    reset: '条件をクリア',
    showSilenced: 'ミュート中のアラートも表示',
    showAcknowledged: '確認済みのアラートも表示',
    showInhibited: '抑制中のアラートも表示',
    filters: '絞り込み条件',
    groupOf: (labels) => labels ? `グループ: ${labels}` : 'グループ',
    groupBy: 'まとめ方',
    groupByRoutes: '通知の設定どおり',
    groupByGoal: '目標ごと',
    groupBySeverity: '重要度ごと',
    groupByNone: 'まとめない',
    ungrouped: '個別に通知されるアラート',
    allAlerts: 'すべてのアラート',
    receiver: '通知先',
    groupCount: (n, shown) => shown < n ? `${n}件（うち${shown}件を表示）` : `${n}件`,
    pageOf: (from, to, total) => `${total}件中 ${from}〜${to}件目`,
    previous: '前へ',
    next: '次へ',
    pagination: 'ページ送り',
    summary: '概要',
    description: '詳細',
    criterion: '判定条件',
    bound: '基準値',
    breach: '基準を外れた数値',
    history: '状態の履歴',
    at: '日時',
    from: '変更前',
    to: '変更後',
    notifications: '通知',
    event: '種類',
    status: '送信状態',
    attempts: '試行回数',
    deliveredAt: '送信日時',
    lastError: '直近のエラー',
    group: 'グループ',
    noNotifications: '通知はまだありません',
    silences: 'ミュート',
    silencedBy: (ids) => `ミュート中（ミュート ${ids}）`,
    notSilenced: 'ミュートされていません',
    inhibitedBy: '次のアラートにより抑制されています',
    acknowledgement: '確認',
    acknowledged: (by, at) => `${by} が ${at} に確認済み`,
    notAcknowledged: 'まだ確認されていません',
    ack: 'アラートを確認済みにする',
    comment: 'コメント',
    silenceCreate: 'ミュートを設定',
    matchers: '対象（1行に 名前=値）',
    endsAt: '終了日時',
    expire: 'ミュートを解除',
    actions: '操作',
    actionsNote: '確認とミュートには管理者トークンが必要です。トークンはこのタブの中だけに保存され、閉じると消えます。',
    token: '管理者トークン',
    tokenSave: 'トークンを使う',
    tokenForget: 'トークンを消去',
    tokenSet: 'トークンが設定されています（このタブのみ）',
    tokenNone: 'トークンは設定されていません',
    tokenNeeded: 'この画面の表示にはトークンが必要です。読み取り権限のあるトークンを入力してください。',
    done: '完了しました',
    failed: (msg) => `失敗しました: ${msg}`,
    loadFailed: (msg) => `データを読み込めませんでした: ${msg}`,
    live: '自動更新中',
    polling: '自動更新中（5秒ごと）',
    updatedAt: (t) => `最終更新 ${t}`,
    value_: '値',
    alertValue: '判定時の数値',
    firingSince: '発生開始',
    activeSince: '検知日時',
    resolvedAt: '解決日時',
    notFound: 'ページが見つかりません',
    notFoundText: 'お探しのアラートは存在しないか、削除されました。',
    unitPoints: 'ポイント',
    periodKind: { year: '暦年', fiscal_year: '年度', survey_year: '調査年' },
  },
  en: {
    site: 'Medical Device Basic Plan: KPI status',
    overview: 'Overview',
    overviewTitle: 'KPIs of the 2nd Medical Device Basic Plan',
    overviewLead: 'For each of the 11 goals: the trend of its KPIs, the latest figures, firing alerts and overdue figures.',
    goal: (n) => `Goal ${n}`,
    alerts: 'Alerts',
    alertsTitle: 'Alerts',
    alert: 'Alert',
    firingNow: 'Firing alerts',
    firingNone: 'No alert is firing',
    overdue: 'Overdue figures',
    overdueNone: 'No figure is overdue',
    overdueCount: (n) => `${n} overdue`,
    count: (n) => `${n}`,
    latest: 'Latest figure',
    change: 'Change',
    noChange: 'unchanged',
    noFigure: 'No figure yet',
    reportedBy: 'Reported by',
    series: 'Series',
    seriesCount: (n) => `${n} series`,
    moreSeries: (n, total) => `${n} of ${total} series shown`,
    moreRows: 'Show more',
    items: 'Items',
    trendOf: (name) => `Trend of ${name}`,
    chartData: 'Figures of the chart',
    period: 'Period',
    value: 'Value',
    source: 'Source',
    note: 'Note',
    submittedBy: 'Submitted by',
    submittedAt: 'Submitted at',
    revision: 'Revision',
    figures: 'Figures',
    downloadCsv: 'Download CSV',
    goalAlerts: 'Alerts of this goal',
    noAlerts: 'No alerts',
    viewGoal: 'Goal details',
    severity: 'Severity',
    state: 'State',
    kpi: 'KPI',
    since: 'Since',
    labels: 'Labels',
    anyLabel: 'Label (name=value)',
    anyLabelHint: 'e.g. body=amed',
    all: 'All',
    filter: 'Filter',
    reset: 'Clear',
    showSilenced: 'Show silenced alerts',
    showAcknowledged: 'Show acknowledged alerts',
    showInhibited: 'Show inhibited alerts',
    filters: 'Filters',
    groupOf: (labels) => labels ? `Group: ${labels}` : 'Group',
    groupBy: 'Group by',
    groupByRoutes: 'As notifications are grouped',
    groupByGoal: 'Goal',
    groupBySeverity: 'Severity',
    groupByNone: 'No grouping',
    ungrouped: 'Alerts notified one by one',
    allAlerts: 'All alerts',
    receiver: 'Receiver',
    groupCount: (n, shown) => shown < n ? `${n} (${shown} shown)` : `${n}`,
    pageOf: (from, to, total) => `${from}–${to} of ${total}`,
    previous: 'Previous',
    next: 'Next',
    pagination: 'Pages',
    summary: 'Summary',
    description: 'Description',
    criterion: 'Criterion',
    bound: 'Bound',
    breach: 'Breaching figure',
    history: 'History',
    at: 'At',
    from: 'From',
    to: 'To',
    notifications: 'Notifications',
    event: 'Event',
    status: 'Delivery',
    attempts: 'Attempts',
    deliveredAt: 'Delivered at',
    lastError: 'Last error',
    group: 'Group',
    noNotifications: 'No notifications yet',
    silences: 'Silences',
    silencedBy: (ids) => `Silenced (silence ${ids})`,
    notSilenced: 'Not silenced',
    inhibitedBy: 'Inhibited by',
    acknowledgement: 'Acknowledgement',
    acknowledged: (by, at) => `Acknowledged by ${by} at ${at}`,
    notAcknowledged: 'Not acknowledged',
    ack: 'Acknowledge',
    comment: 'Comment',
    silenceCreate: 'Create silence',
    matchers: 'Matchers (one name=value a line)',
    endsAt: 'Ends at',
    expire: 'Expire silence',
    actions: 'Actions',
    actionsNote: 'Acknowledging and silencing need an admin token. It is kept in this tab only and gone when the tab closes.',
    token: 'Admin token',
    tokenSave: 'Use token',
    tokenForget: 'Forget token',
    tokenSet: 'A token is set (this tab only)',
    tokenNone: 'No token set',
    tokenNeeded: 'Reading needs a token: enter a token with the read scope.',
    done: 'Done',
    failed: (msg) => `Failed: ${msg}`,
    loadFailed: (msg) => `Could not load the data: ${msg}`,
    live: 'Live',
    polling: 'Updating every 5 s',
    updatedAt: (t) => `Updated ${t}`,
    value_: 'Value',
    alertValue: 'Figure at evaluation',
    firingSince: 'Firing since',
    activeSince: 'Active since',
    resolvedAt: 'Resolved at',
    notFound: 'Page not found',
    notFoundText: 'The alert does not exist or was removed.',
    unitPoints: 'pts',
    periodKind: { year: 'calendar year', fiscal_year: 'fiscal year', survey_year: 'survey year' },
  },
};

export const t = texts[lang];

const words = {
  ja: {
    severity: { critical: '重大', warning: '警告', info: '情報' },
    state: { firing: '発生中', pending: '保留', resolved: '解決済み', inactive: '平常' },
    status: { pending: '送信待ち', delivered: '送信済み', dead: '送信できず', failed: '送信できず', claimed: '送信中', sending: '送信中' },
    event: { firing: '発生', resolved: '解決', reminder: '再通知', acknowledged: '確認' },
  },
  en: {
    severity: { critical: 'Critical', warning: 'Warning', info: 'Info' },
    state: { firing: 'Firing', pending: 'Pending', resolved: 'Resolved', inactive: 'Inactive' },
    status: { pending: 'Pending', delivered: 'Delivered', dead: 'Dead letter', failed: 'Failed', claimed: 'Sending', sending: 'Sending' },
    event: { firing: 'Firing', resolved: 'Resolved', reminder: 'Reminder', acknowledged: 'Acknowledged' },
  },
};

// "severity", "critical" → 重大; unknown words are shown as they are.
export function word(kind, id) {
  return (words[lang][kind] && words[lang][kind][id]) || String(id ?? '');
}

// A {ja, en} text (or a plain string) in the page's language.
export function tr(text) {
  if (text == null) return '';
  if (typeof text === 'string' || typeof text === 'number') return String(text);
  return text[lang] ?? text.ja ?? text.en ?? '';
}

const formats = new Map();
export function formatNumber(value, decimals) {
  if (value == null || Number.isNaN(Number(value))) return '—';
  const d = Number.isInteger(decimals) ? decimals : 1;
  if (!formats.has(d))
    formats.set(d, new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }));
  return formats.get(d).format(Number(value));
}

// The counter word of a KPI: unit_name {ja,en} if the server sends it, else by unit.
export function unitName(kpi) {
  if (kpi && kpi.unit_name) return tr(kpi.unit_name);
  const byUnit = {
    ja: { percent: '%', count: '件', years: '年', ratio: '倍' },
    en: { percent: '%', count: '', years: 'years', ratio: 'times' },
  };
  return byUnit[lang][kpi && kpi.unit] ?? '';
}

export function decimalsOf(kpi) {
  if (kpi && Number.isInteger(kpi.decimals)) return kpi.decimals;
  return kpi && kpi.unit === 'count' ? 0 : 1;
}

// 33.1% / 49コース / 49 courses
export function withUnit(text, unit) {
  if (!unit) return text;
  if (unit === '%' || lang === 'ja') return `${text}${unit}`;
  return `${text} ${unit}`;
}

export function formatValue(value, kpi) {
  return withUnit(formatNumber(value, decimalsOf(kpi)), unitName(kpi));
}

// ▲ +1.2ポイント / ▼ −6.3 pts: an arrow and a sign, never colour alone.
export function formatChange(change, kpi) {
  if (change == null) return '';
  const d = decimalsOf(kpi);
  if (Math.round(Math.abs(change) * 10 ** d) === 0) return t.noChange;
  const sign = change > 0 ? '+' : '−';
  const arrow = change > 0 ? '▲' : '▼';
  const unit = kpi && kpi.unit === 'percent' ? t.unitPoints : unitName(kpi);
  return `${arrow} ${sign}${withUnit(formatNumber(Math.abs(change), d), unit)}`;
}

// 2024 → 2024年; FY2023 → 2023年度 (when the server sends no period_name).
export function periodName(point) {
  if (point && point.period_name) return tr(point.period_name);
  const p = String((point && point.period) ?? point ?? '');
  const fy = /^FY(\d{4})$/.exec(p);
  if (fy) return lang === 'ja' ? `${fy[1]}年度` : `FY${fy[1]}`;
  if (/^\d{4}$/.test(p)) return lang === 'ja' ? `${p}年` : p;
  return p;
}

const dateTime = new Intl.DateTimeFormat(locale, {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  timeZone: 'Asia/Tokyo', timeZoneName: 'short',
});
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTime.format(d);
}

// A link inside the page that keeps the language.
export function href(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') url.searchParams.set(k, v);
  if (lang === 'en') url.searchParams.set('lang', 'en');
  return url.pathname + url.search;
}

// "stage=all, sex=female" → the series' label {ja,en} if sent, else its dims.
export function seriesLabel(series) {
  if (series && series.label) return tr(series.label);
  const dims = (series && series.dims) || {};
  const parts = Object.entries(dims).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : (lang === 'ja' ? '全体' : 'Overall');
}
