// The Snowball English (Porter2) stemmer, as the search index's Go stems
// words (github.com/kljensen/snowball/english.Stem(word, true), v0.10.0),
// quirks and all, so that a query's words meet the index's. It takes a
// lower-case word.
"use strict";
(function () {
  const special = new Map(Object.entries({
    skis: "ski", skies: "sky", dying: "die", lying: "lie", tying: "tie",
    idly: "idl", gently: "gentl", ugly: "ugli", early: "earli", only: "onli",
    singly: "singl", sky: "sky", news: "news", howe: "howe", atlas: "atlas",
    cosmos: "cosmos", bias: "bias", andes: "andes", inning: "inning",
    innings: "inning", outing: "outing", outings: "outing", canning: "canning",
    cannings: "canning", herring: "herring", herrings: "herring",
    earring: "earring", earrings: "earring", proceed: "proceed",
    proceeds: "proceed", proceeded: "proceed", proceeding: "proceed",
    exceed: "exceed", exceeds: "exceed", exceeded: "exceed",
    exceeding: "exceed", succeed: "succeed", succeeds: "succeed",
    succeeded: "succeed", succeeding: "succeed",
  }));
  // Suffixes in the order they are tried, each with its replacement.
  const step2 = {
    ational: "ate", fulness: "ful", iveness: "ive", ization: "ize",
    ousness: "ous", biliti: "ble", lessli: "less", tional: "tion",
    alism: "al", aliti: "al", ation: "ate", entli: "ent", fulli: "ful",
    iviti: "ive", ousli: "ous", anci: "ance", abli: "able", alli: "al",
    ator: "ate", enci: "ence", izer: "ize", bli: "ble", ogi: "og", li: "",
  };
  const step3 = {
    ational: "ate", tional: "tion", alize: "al", icate: "ic", ative: "",
    iciti: "ic", ical: "ic", ful: "", ness: "",
  };
  const step4 = ["ement", "ance", "ence", "able", "ible", "ment", "ent",
    "ant", "ism", "ate", "iti", "ous", "ive", "ize", "ion", "al", "er", "ic"];
  const doubles = ["at", "bl", "iz", "bb", "dd", "ff", "gg", "mm", "nn", "pp",
    "rr", "tt"];

  const vowel = (c) => c !== undefined && "aeiouy".includes(c);

  // The first of list that w (an array of characters) ends with, or "".
  function suffix(w, list) {
    for (const s of list) {
      if (s.length <= w.length && w.slice(w.length - s.length).join("") === s) {
        return s;
      }
    }
    return "";
  }

  // The index after the first non-vowel that follows a vowel, from start.
  function vnv(w, start) {
    for (let j = start + 1; j < w.length; j++) {
      if (vowel(w[j - 1]) && !vowel(w[j])) return j + 1;
    }
    return w.length;
  }

  // Whether w's first i characters end in a short syllable.
  function shortSyllable(w, i) {
    if (i === 2) return vowel(w[0]) && !vowel(w[1]);
    if (i < 3) return false;
    const c = w[i - 1];
    return !vowel(c) && c !== "w" && c !== "x" && c !== "Y" &&
      vowel(w[i - 2]) && !vowel(w[i - 3]);
  }

  // Go counts a word's length in UTF-8 bytes.
  function bytes(word) {
    let n = 0;
    for (const c of word) {
      const p = c.codePointAt(0);
      n += p < 0x80 ? 1 : p < 0x800 ? 2 : p < 0x10000 ? 3 : 4;
    }
    return n;
  }

  self.RoundsStem = function (word) {
    if (bytes(word) <= 2) return word;
    if (special.has(word)) return special.get(word);

    let w = Array.from(word.replace(/[\u2018\u2019\u201b]/g, "'"));
    // Leading apostrophes go. (Go keeps the last of a word of nothing
    // else, which step 0 then removes.)
    while (w[0] === "'") w.shift();
    // A y that starts the word or follows a vowel is a consonant, Y.
    for (let i = 0; i < w.length; i++) {
      if (w[i] === "y" && (i === 0 || vowel(w[i - 1]))) w[i] = "Y";
    }
    const prefix = ["gener", "commun", "arsen"]
      .find((p) => w.slice(0, p.length).join("") === p);
    let r1 = prefix ? prefix.length : vnv(w, 0);
    let r2 = vnv(w, r1);
    const replace = (s, repl) => {
      w = w.slice(0, w.length - s.length).concat(Array.from(repl));
      r1 = Math.min(r1, w.length);
      r2 = Math.min(r2, w.length);
    };

    // Step 0: apostrophe endings.
    let s = suffix(w, ["'s'", "'s", "'"]);
    if (s) replace(s, "");

    // Step 1a: s endings.
    s = suffix(w, ["sses", "ied", "ies", "us", "ss", "s"]);
    if (s === "sses") replace(s, "ss");
    else if (s === "ied" || s === "ies") replace(s, w.length > 4 ? "i" : "ie");
    else if (s === "s" && w.slice(0, Math.max(0, w.length - 2)).some(vowel)) {
      replace(s, "");
    }

    // Step 1b: ed, ing and ly endings.
    s = suffix(w, ["eedly", "ingly", "edly", "ing", "eed", "ed"]);
    if (s === "eed" || s === "eedly") {
      if (s.length <= w.length - r1) replace(s, "ee");
    } else if (s && w.slice(0, w.length - s.length).some(vowel)) {
      let o1 = r1, o2 = r2;
      replace(s, "");
      const d = suffix(w, doubles);
      if (d === "") {
        if (r1 >= w.length && shortSyllable(w, w.length)) {
          w.push("e");
          o1 = o2 = w.length;
        }
      } else if (d[0] !== d[1]) {
        w.push("e");
      } else {
        w.pop();
      }
      r1 = Math.min(o1, w.length);
      r2 = Math.min(o2, w.length);
    }

    // Step 1c: a final y after a non-vowel, not the first letter, is i.
    const last = w.length - 1;
    if (w.length > 2 && (w[last] === "y" || w[last] === "Y") && !vowel(w[last - 1])) {
      w[last] = "i";
    }

    // Step 2: endings in R1.
    s = suffix(w, Object.keys(step2));
    if (s && s.length <= w.length - r1) {
      const c = w[w.length - s.length - 1];
      if (s === "li") {
        if ("cdeghkmnrt".includes(c)) replace(s, "");
      } else if (s !== "ogi" || c === "l") {
        replace(s, step2[s]);
      }
    }

    // Step 3: more endings in R1.
    s = suffix(w, Object.keys(step3));
    if (s && s.length <= w.length - r1 && (s !== "ative" || w.length - r2 >= 5)) {
      replace(s, step3[s]);
    }

    // Step 4: endings in R2.
    s = suffix(w, step4);
    if (s && s.length <= w.length - r2) {
      const c = w[w.length - 4];
      if (s !== "ion" || c === "s" || c === "t") replace(s, "");
    }

    // Step 5: a final e, or the second of a final ll.
    const end = w.length - 1;
    if (r1 <= end) {
      if (w[end] === "e") {
        if (r2 <= end || !shortSyllable(w, end)) w.pop();
      } else if (r2 <= end && w[end] === "l" && w[end - 1] === "l") {
        w.pop();
      }
    }
    return w.join("").replace(/Y/g, "y");
  };
})();
