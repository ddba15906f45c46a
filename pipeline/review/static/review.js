// Review cards: play the span, draw the waveform, decide by button or key.
// Written for this project; no library, nothing fetched from elsewhere.
(function () {
  "use strict";
  var mode = document.body.dataset.mode;            // "app" or "report"
  var tokenMeta = document.querySelector('meta[name="review-token"]');
  var token = tokenMeta ? tokenMeta.content : "";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var current = -1;

  function num(x) { return x === undefined || x === "" ? null : parseFloat(x); }

  function focusCard(i) {
    if (i < 0 || i >= cards.length) return;
    if (current >= 0) cards[current].classList.remove("current");
    current = i;
    var el = cards[i];
    el.classList.add("current");
    el.scrollIntoView({block: "start"});
    el.focus({preventScroll: true});
    draw(el);
  }

  function cardOf(node) { return node.closest ? node.closest("article.card") : null; }

  // ------------------------------------------------------------------ audio
  function play(el, fromContext) {
    var a = el.querySelector("audio.player");
    if (!a) return;
    var clipStart = num(el.dataset.clipStart) || 0;
    var at = fromContext ? 0 : Math.max(0, num(el.dataset.spanStart) - clipStart);
    cards.forEach(function (c) {
      var other = c.querySelector("audio.player");
      if (other && other !== a && !other.paused) other.pause();
    });
    function go() {
      a.currentTime = at;
      var p = a.play();
      if (p && p.catch) p.catch(function () {});
    }
    if (a.readyState >= 1) go();
    else {
      a.preload = "auto";
      a.addEventListener("loadedmetadata", go, {once: true});
      a.load();
    }
  }

  function toggle(el) {
    var a = el.querySelector("audio.player");
    if (!a) return;
    if (a.paused) {
      if (a.readyState >= 1 && a.currentTime > 0 && !a.ended) a.play();
      else play(el, false);
    } else a.pause();
  }

  // ------------------------------------------------------------------ waveform
  var peaksCache = {};

  function peaksFor(el, done) {
    if (el.dataset.peaks) { done(JSON.parse(el.dataset.peaks)); return; }
    var id = el.dataset.quoteId;
    if (peaksCache[id]) { done(peaksCache[id]); return; }
    if (mode !== "app") return;
    fetch("/peaks?q=" + encodeURIComponent(id), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) { peaksCache[id] = j.peaks; done(j.peaks); } })
      .catch(function () {});
  }

  function draw(el, playhead) {
    var canvas = el.querySelector("canvas.wave");
    if (!canvas) return;
    peaksFor(el, function (peaks) { paint(el, canvas, peaks, playhead); });
  }

  function paint(el, canvas, peaks, playhead) {
    var marks = JSON.parse(el.dataset.marks || "{}");
    if (!marks.clip) return;
    var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
    var t0 = marks.clip[0], t1 = marks.clip[1], span = t1 - t0;
    function x(t) { return (t - t0) / span * w; }
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#eef3fb";
    ctx.fillRect(x(marks.listen[0]), 0, x(marks.listen[1]) - x(marks.listen[0]), h);
    ctx.fillStyle = "#d6e4f7";
    ctx.fillRect(x(marks.span[0]), 0, x(marks.span[1]) - x(marks.span[0]), h);
    ctx.fillStyle = "#39506b";
    var n = peaks.length;
    for (var i = 0; i < n; i++) {
      var v = peaks[i] * (h / 2 - 4);
      ctx.fillRect(i / n * w, h / 2 - v, Math.max(1, w / n), 2 * v + 1);
    }
    ctx.strokeStyle = "#c0392b";                          // transmission edges
    ctx.setLineDash([4, 3]);
    (marks.transmissions || []).forEach(function (t) {
      [t[0], t[1]].forEach(function (s) {
        if (s >= t0 && s <= t1) { ctx.beginPath(); ctx.moveTo(x(s), 0); ctx.lineTo(x(s), h); ctx.stroke(); }
      });
    });
    ctx.setLineDash([]);
    var colours = {match: "#2e7d32", form: "#2e7d32", changed: "#d35400", added: "#8e44ad", missing: "#7f8c8d"};
    (marks.words || []).forEach(function (wd) {                     // word boundaries
      ctx.strokeStyle = colours[wd[2]] || "#2e7d32";
      ctx.beginPath(); ctx.moveTo(x(wd[0]), h - 12); ctx.lineTo(x(wd[0]), h); ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillRect(x(wd[0]), h - 3, Math.max(1, x(wd[1]) - x(wd[0])), 3);
    });
    if (playhead !== undefined) {
      ctx.strokeStyle = "#000";
      ctx.beginPath(); ctx.moveTo(x(playhead), 0); ctx.lineTo(x(playhead), h); ctx.stroke();
    }
  }

  // ------------------------------------------------------------------ decisions
  function choose(el, verdict) {
    if (mode !== "app") return;
    var status = el.querySelector(".status");
    var body = {
      quote_id: el.dataset.quoteId,
      verdict: verdict,
      heard: (el.querySelector(".heard-input") || {}).value || "",
      note: (el.querySelector(".note-input") || {}).value || "",
      seen: el.dataset.decisionId ? parseInt(el.dataset.decisionId, 10) : null
    };
    status.textContent = "Saving\u2026";
    fetch("/decide", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Review-Token": token},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return {status: r.status, body: j}; });
    }).then(function (res) {
      if (res.status === 200) { show(el, res.body.decision, "Saved"); }
      else if (res.status === 409) {
        show(el, res.body.current, "Not saved: meanwhile another tab decided");
        el.classList.add("conflict");
        status.textContent += ". Press again to replace it with yours.";
      } else { status.textContent = "Not saved: " + (res.body.error || res.status); }
    }).catch(function (e) { status.textContent = "Not saved: " + e; });
  }

  function show(el, d, prefix) {
    el.dataset.decisionId = d.id;
    el.dataset.verdict = d.verdict;
    el.classList.add("decided");
    el.classList.remove("conflict");
    el.querySelectorAll("button.choice").forEach(function (b) {
      b.classList.toggle("chosen", b.dataset.verdict === d.verdict);
    });
    el.querySelector(".final-verdict").textContent = d.verdict;
    el.querySelector(".final-source").textContent = "reviewer";
    el.querySelector(".status").textContent =
      prefix + ": " + d.verdict + " by " + d.reviewer + " at " + d.reviewed_at;
  }

  function chosenVerdict(el) {
    var b = el.querySelector("button.choice.chosen");
    return b ? b.dataset.verdict : null;
  }

  // ------------------------------------------------------------------ wiring
  cards.forEach(function (el, i) {
    el.addEventListener("click", function (e) {
      if (current !== i) { if (current >= 0) cards[current].classList.remove("current"); current = i; el.classList.add("current"); }
      var t = e.target;
      if (t.closest("button.play-span")) play(el, false);
      else if (t.closest("button.play-context")) play(el, true);
      else if (t.closest("button.choice")) choose(el, t.closest("button.choice").dataset.verdict);
    });
    el.querySelectorAll(".heard-input, .note-input").forEach(function (input) {
      input.addEventListener("change", function () {
        var v = chosenVerdict(el);
        if (v) choose(el, v);
      });
    });
    var a = el.querySelector("audio.player");
    if (a) {
      a.addEventListener("timeupdate", function () {
        draw(el, (num(el.dataset.clipStart) || 0) + a.currentTime);
      });
    }
  });

  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) { if (en.isIntersecting) { draw(en.target); seen.unobserve(en.target); } });
    });
    cards.forEach(function (el) { seen.observe(el); });
  } else cards.forEach(function (el) { draw(el); });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    var el = current >= 0 ? cards[current] : null;
    if (e.key === "j") {
      if (current + 1 < cards.length) focusCard(current + 1);
      else if (document.body.dataset.next) location.href = document.body.dataset.next;
    } else if (e.key === "k") {
      if (current > 0) focusCard(current - 1);
      else if (current <= 0 && document.body.dataset.prev) location.href = document.body.dataset.prev;
    } else if (e.key === " " && el) { e.preventDefault(); toggle(el); }
    else if (e.key === "r" && el) play(el, false);
    else if (/^[1-5]$/.test(e.key) && el) {
      var b = el.querySelectorAll("button.choice")[parseInt(e.key, 10) - 1];
      if (b) choose(el, b.dataset.verdict);
    } else return;
  });

  window.review = {focusCard: focusCard, play: play, cards: cards};
  document.body.dataset.readyAt = performance.now().toFixed(1);
  document.body.dataset.ready = "1";
  if (cards.length) { current = 0; cards[0].classList.add("current"); }
})();
