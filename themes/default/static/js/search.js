// The search page: splits the query as the Go index does, fetches the
// index's shards for its terms and the records of the best results, and
// shows them as the site's cards. Without JavaScript (or without
// DecompressionStream) the page keeps its list of topics.
"use strict";
(function () {
  const form = document.querySelector(".search-form");
  if (!form || !self.RoundsStem || !self.DecompressionStream) return;
  const input = form.querySelector("input[name=q]");
  const status = document.querySelector(".search-status");
  const list = document.querySelector(".search-results");
  const more = document.querySelector(".search-more");
  const filters = ["topic", "audience", "evidence", "year"];
  const base = new URL(form.dataset.meta, location.href);
  const page = 10;
  let meta, stop, run = 0, shown = 0, hits = [], scores;
  const phrases = new Map();
  const files = new Map(); // path → promise of its bytes

  form.querySelector(".search-filters").hidden = false;
  document.querySelector(".search-fallback").hidden = true;

  // The metadata, fetched once the page has loaded, so that the first
  // query waits only for its shards.
  let metaLoad;
  function ready() {
    if (!metaLoad) metaLoad = fetch(base).then(function (r) { return r.json(); }).then(function (m) {
      meta = m;
      stop = new Set(m.stop);
      // The synonyms' phrases by their first term.
      m.synonyms.forEach(function (g, n) {
        for (const p of g) phrases.set(p[0], (phrases.get(p[0]) || []).concat([[n, p]]));
      });
      // Compiled before the first query, on as much work as a common
      // word's: the query's split; a shard's reading and scoring (a
      // shard of one term, "a", in 4,000 documents); ranking; a card.
      const n = 4000, warm = [0, 1, 97, 0xe8, 0x07, 0x80 | n & 127, n >> 7, 0x80 | 2 * n & 127, 2 * n >> 7];
      for (let d = 0; d < n; d++) warm.push(1, 1 + d % 255);
      const best = new Float32Array(n + 1), ids = [];
      for (const t of parse(new Uint8Array(warm))) score(t, 1, best, ids);
      rank(ids, best, 0);
      card({ u: "#", t: "Warming up", d: "", ds: "", m: "Warming the script up: randomised vaccinations, hospitalisations and happier patients" }, marks(clauses("warming randomised hospitalisation happiness")));
    });
    return metaLoad;
  }

  // A file of the index, inflated. Rounds publishes the files, built
  // compressed, with Content-Encoding: gzip, and the browser inflates
  // them; a host that serves them without it serves them compressed, and
  // they are inflated here.
  function load(path, priority) {
    if (!files.has(path)) {
      files.set(path, fetch(new URL(path, base), { priority: priority || "high" }).then(function (r) {
        if (!r.ok) throw new Error(path + ": " + r.status);
        return r.arrayBuffer();
      }).then(function (b) {
        const u = new Uint8Array(b);
        if (u[0] !== 0x1f || u[1] !== 0x8b) return u;
        return new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer().then(function (b) { return new Uint8Array(b); });
      }));
    }
    return files.get(path);
  }

  // Terms, as the Go index's Terms: folded, a DOI whole, words of letters
  // and digits, stop words out, words of letters stemmed.
  function fold(s) { return s.normalize("NFD").replace(/\p{Mn}/gu, "").toLowerCase(); }
  function stem(w) {
    if (/[0-9]/.test(w)) return w;
    return RoundsStem(w.replace(/(.[iy])z(ations?|ing|ers?|ed|es|e)$/, "$1s$2"));
  }
  function terms(q) {
    q = fold(q);
    const out = [];
    q = q.replace(/(?:(?:https?:\/\/)?(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/[^\t\n\f\r "<>]+)/g, function (m, id) {
      const doi = id.replace(/[.,;:)\]}'"’”]+$/, "");
      out.push({ term: doi, doi: true });
      return " ".repeat(m.length - id.length + doi.length) + id.slice(doi.length);
    });
    for (const m of q.matchAll(/[\p{L}\p{N}]+/gu)) {
      const w = m[0];
      if ([...w].length === 1 && !/[0-9]/.test(w) || stop.has(w)) continue;
      out.push({ term: stem(w), word: w, end: m.index + w.length });
    }
    return { list: out, open: q.length > 0 && !/\s$/.test(q) };
  }

  // The shard that holds term: the last whose first term is not after it.
  function shardOf(term) {
    let lo = 0, hi = meta.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (meta.shards[mid][0] <= term) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  const decoder = new TextDecoder();
  const parsed = new Map(), chunks = new Map();
  // A shard's terms, each with its idf, its number of documents and where
  // its postings start: a term is its prefix shared with the one before,
  // the rest, then idf × 1000, documents and the postings' bytes, as
  // varints; then each posting, the gap from the document before and
  // its weight out of 255.
  async function shard(i) {
    const file = meta.shards[i][1];
    if (!parsed.has(file)) {
      parsed.set(file, load(file).then(parse));
    }
    return parsed.get(file);
  }
  function parse(b) {
    let p = 0, prev = "";
    function uv() { let x = 0, s = 1, c; do { c = b[p++]; x += (c & 127) * s; s *= 128; } while (c & 128); return x; }
    const out = [];
    while (p < b.length) {
      const shared = uv(), len = uv();
      let suffix = "", ascii = true;
      for (let k = p; k < p + len; k++) if (b[k] > 127) ascii = false;
      suffix = ascii ? String.fromCharCode.apply(null, b.subarray(p, p + len)) : decoder.decode(b.subarray(p, p + len));
      const term = prev.slice(0, shared) + suffix;
      p += len;
      const idf = uv() / 1000, df = uv(), size = uv();
      out.push({ term: term, idf: idf, df: df, at: p, b: b });
      p += size;
      prev = term;
    }
    return out;
  }
  // The entry of term in a shard's sorted terms, or the first after it.
  function seek(terms, term) {
    let lo = 0, hi = terms.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (terms[mid].term < term) lo = mid + 1; else hi = mid;
    }
    return lo;
  }
  // The index's entries for term, each with its weight in the clause, or
  // with prefix also the terms it starts and those that start it (a word
  // half typed past its stem). Every shard needed is fetched at once.
  async function lookup(term, prefix, word) {
    const want = new Set([shardOf(term)]);
    const n = meta.shards.length;
    if (prefix) {
      for (let j = shardOf(term) + 1; j < n && j < shardOf(term) + 3 && meta.shards[j][0].startsWith(term); j++) want.add(j);
      for (let k = Math.max(3, word.length - 4); k < word.length; k++) want.add(shardOf(word.slice(0, k)));
    }
    const shards = await Promise.all([...want].map(shard));
    const found = [], seen = new Set();
    function take(t, w) {
      if (!seen.has(t.term)) { seen.add(t.term); found.push({ t: t, w: w }); }
    }
    for (const terms of shards) {
      for (let i = seek(terms, term); i < terms.length; i++) {
        const t = terms[i];
        if (t.term === term) take(t, 1);
        else if (prefix && t.term.startsWith(term)) take(t, 0.6);
        else break;
      }
      if (!prefix) continue;
      for (let k = Math.max(3, word.length - 4); k < word.length; k++) {
        const w = word.slice(0, k), i = seek(terms, w);
        if (i < terms.length && terms[i].term === w) take(terms[i], 0.8);
      }
    }
    return found;
  }

  // A clause's documents and their scores, the best of its terms': ids
  // and scores, side by side.
  async function clause(alts) {
    const best = new Float32Array(meta.docs), ids = [];
    const k1 = meta.k1 + 1;
    const found = await Promise.all(alts.map(function (a) { return lookup(a.term, a.prefix, a.word); }));
    for (const fs of found) for (const f of fs) score(f.t, f.t.idf * k1 / 255 * f.w, best, ids);
    return { ids: ids, best: best };
  }
  // Scores the documents of a term's postings, each its weight w times
  // the posting's: the best score of each in best, and each new one in ids.
  function score(t, w, best, ids) {
    const b = t.b;
    let p = t.at, doc = 0;
    for (let k = 0; k < t.df; k++) {
      let x = 0, m = 1, c;
      do { c = b[p++]; x += (c & 127) * m; m *= 128; } while (c & 128);
      doc += x;
      const v = w * b[p++];
      if (best[doc] === 0) ids.push(doc);
      if (v > best[doc]) best[doc] = v;
    }
  }

  // The query's clauses: each term, or a synonym's phrase as its group,
  // and each filter chosen; a document must meet them all.
  function clauses(q) {
    const { list, open } = terms(q);
    const out = [];
    for (let i = 0; i < list.length;) {
      let best = -1, len = 0;
      for (const [n, p] of phrases.get(list[i].term) || []) {
        if (p.length > len && p.every(function (s, k) { return list[i + k] && list[i + k].term === s; })) { best = n; len = p.length; }
      }
      const last = i + Math.max(len, 1) === list.length && open && !list[i].doi;
      if (best >= 0 && !(last && len === 1)) {
        out.push([{ term: "~s" + best }]);
        i += len;
        continue;
      }
      const t = list[i];
      const alts = [{ term: t.term }];
      if (last && t.word && t.word.length >= 2) alts[0] = { term: t.term, prefix: true, word: t.word };
      if (best >= 0) alts.push({ term: "~s" + best });
      out.push(alts);
      i++;
    }
    return out;
  }

  async function search() {
    const mine = ++run;
    const q = input.value.trim();
    const chosen = filters.filter(function (f) { return form.elements[f].value; });
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    for (const f of chosen) params.set(f, form.elements[f].value);
    if (!q && !chosen.length) {
      history.replaceState(null, "", location.pathname);
      list.replaceChildren();
      more.hidden = true;
      status.textContent = "";
      return;
    }
    await ready();
    if (mine !== run) return;
    const text = q ? clauses(q) : [];
    const sets = await Promise.all(text.map(clause).concat(chosen.map(function (f) {
      return clause([{ term: "~" + f + ":" + form.elements[f].value }]);
    })));
    if (mine !== run) return;
    // The documents in every clause, scored by the query's words (not
    // by the filters), best first, then newest.
    // The first clause's scores are its own: the others' are added.
    const score = text.length ? sets[0].best : new Float32Array(meta.docs);
    for (let i = 1; i < text.length; i++) for (const d of sets[i].ids) score[d] += sets[i].best[d];
    sets.sort(function (a, b) { return a.ids.length - b.ids.length; });
    let found = sets.length ? sets[0].ids : []; // none: only stop words
    if (sets.length > 1) {
      const count = new Uint8Array(meta.docs);
      for (const s of sets) for (const d of s.ids) count[d]++;
      found = found.filter(function (d) { return count[d] === sets.length; });
    }
    hits = found;
    scores = score;
    shown = 0;
    list.replaceChildren();
    const what = q ? " for “" + q + "”" : "";
    const said = hits.length ? hits.length + (hits.length === 1 ? " note" : " notes") + " found" + what + "." : "No notes found" + what + ". Try fewer words or another filter.";
    await show(mine, marks(text), function () { status.textContent = said; });
    if (mine === run) history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
  }

  // The terms to mark in results: the query's, and the prefixes of a half
  // typed word.
  function marks(text) {
    const exact = new Set(), starts = [];
    for (const alts of text) for (const a of alts) {
      if (a.term.startsWith("~")) {
        const g = meta.synonyms[+a.term.slice(2)];
        for (const p of g) for (const s of p) exact.add(s);
      } else if (a.prefix) starts.push(a.term); else exact.add(a.term);
    }
    // A stem begins with its word's first letter: a word whose letter
    // begins no term is not stemmed.
    const firsts = new Set([...exact, ...starts].map(function (t) { return t[0]; }));
    return function (w) {
      const f = fold(w);
      if (!firsts.has(f[0])) return false;
      const s = stem(f);
      return exact.has(s) || starts.some(function (p) { return s.startsWith(p) || f.startsWith(p); });
    };
  }

  // Puts the best documents of list from place from on, best first (the
  // highest score, then the newest), in the next page's places, in one
  // pass that keeps the best so far: sorting thousands of results would
  // cost more than the page shows.
  function rank(list, scores, from) {
    const n = Math.min(page, list.length - from), top = [];
    if (n <= 0) return;
    function better(d, e) { return scores[d] > scores[e] || (scores[d] === scores[e] && d > e); }
    let worst = -1, last = -1; // the score and document of the last of a full top
    for (let k = from; k < list.length; k++) {
      const d = list[k], s = scores[d];
      if (s < worst || (s === worst && d < last)) continue;
      let i = Math.min(top.length, n - 1);
      while (i > 0 && better(d, top[i - 1])) i--;
      top.splice(i, 0, d);
      if (top.length > n) top.pop();
      if (top.length === n) { last = top[n - 1]; worst = scores[last]; }
    }
    // Each into its place, and what stood there where it was.
    top.forEach(function (d, j) {
      const k = list.indexOf(d, from + j);
      list[k] = list[from + j];
      list[from + j] = d;
    });
  }

  // The record of document doc.
  function record(doc, priority) {
    const file = meta.chunks[Math.floor(doc / meta.chunk)];
    if (!chunks.has(file)) chunks.set(file, load(file, priority).then(function (b) { return JSON.parse(decoder.decode(b)); }));
    return chunks.get(file).then(function (all) { return all[doc % meta.chunk]; });
  }

  // Shows the next page of results, each as soon as its record is in,
  // in order; first is called before the first (or with none).
  async function show(mine, marked, first) {
    rank(hits, scores, shown);
    const next = hits.slice(shown, shown + page);
    if (!next.length && first) first();
    // The first result's record alone; the others' once it shows (a
    // fetch costs the page some milliseconds to start).
    let records = next.slice(0, 1).map(function (doc) { return record(doc, "high"); });
    for (let i = 0; i < next.length; i++) {
      const rec = await records[i];
      if (mine !== run) return;
      if (first) { first(); first = null; }
      const li = document.createElement("li");
      li.append(card(rec, marked));
      list.append(li);
      if (i === 0) {
        await new Promise(function (done) { setTimeout(done); });
        if (mine !== run) return;
        records = records.concat(next.slice(1).map(function (doc) { return record(doc, "low"); }));
      }
    }
    shown += next.length;
    more.hidden = shown >= hits.length;
  }

  function el(tag, cls, ...children) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    e.append(...children);
    return e;
  }
  function link(href, ...text) {
    const a = el("a", "", ...text);
    a.href = href;
    return a;
  }
  // text with the words marked (a <mark> each), as nodes.
  function highlight(parent, text, marked) {
    for (const part of text.split(/([\p{L}\p{N}]+)/u)) {
      if (part && /[\p{L}\p{N}]/u.test(part) && marked(part)) parent.append(el("mark", "", part));
      else if (part) parent.append(part);
    }
    return parent;
  }
  // A result, as partials/note-card.html makes a note's card.
  function card(r, marked) {
    const a = el("article", "card");
    if (r.s) a.dataset.strength = r.s;
    const title = link(r.u);
    highlight(title, r.t, marked);
    if (r.w) title.rel = "noopener";
    const time = el("time", "", r.ds);
    time.dateTime = r.d;
    a.append(el("h3", "card-title", title), el("p", "meta", time));
    const labels = el("ul", "labels");
    labels.setAttribute("role", "list");
    labels.setAttribute("aria-label", "About this note");
    function label(cls, child) { labels.append(el("li", "label " + cls, child)); }
    if (r.r) label("label-retracted", r.r);
    if (r.sp) label("label-sponsored", "Sponsored");
    if (r.w) label("label-wire", "Wire: not curated");
    if (r.e) label("label-evidence strength-" + r.s, link(form.dataset.evidence, r.e + (r.s ? ": " + r.s : "")));
    if (r.g) label("label-design", r.g);
    for (const [href, text] of r.a || []) label("label-audience", link(href, text));
    for (const [href, text] of r.p || []) label("label-topic", link(href, text));
    if (labels.children.length) a.append(labels);
    if (r.m) a.append(highlight(el("p", "summary"), r.m, marked));
    if (r.src) {
      a.append(el("p", "source", el("span", "source-label", "Source:"), " " + r.src));
    }
    return a;
  }

  // A failed fetch says so, and shows the topics again.
  function go() {
    search().catch(function (e) {
      status.textContent = "Search is unavailable just now (" + e.message + "). Browse the topics below.";
      document.querySelector(".search-fallback").hidden = false;
    });
  }
  form.addEventListener("input", go);
  form.addEventListener("submit", function (e) { e.preventDefault(); go(); });
  more.addEventListener("click", function () {
    const first = shown;
    show(run, marks(input.value.trim() ? clauses(input.value.trim()) : [])).then(function () {
      const a = list.children[first] && list.children[first].querySelector("a");
      if (a) a.focus();
    });
  });
  // For tests: the terms of a text, as the Go index makes them.
  self.RoundsSearchTerms = async function (text) {
    await ready();
    return terms(text).list.map(function (t) { return t.term; });
  };
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  for (const f of filters) if (params.get(f)) form.elements[f].value = params.get(f);
  if (input.value || filters.some(function (f) { return form.elements[f].value; })) go();
  else ready().catch(function () { metaLoad = null; });
})();
