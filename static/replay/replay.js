// The movements replay, played in the browser (reliefhub/replay.py sends the
// data once). Each arc grows with its movements so far, by the flow map's
// width rule, and fades as its last movement grows older; deck.gl redraws
// the arcs only, on every animation frame, without asking the server.
(function () {
  "use strict";
  const R = JSON.parse(document.getElementById("replay-data").textContent);
  const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  // pydeck's JSON names accessors "@@=column" or "@@=[a, b]", layers and
  // extensions by "@@type": the little of @deck.gl/json the map needs.
  function accessor(value) {
    if (typeof value !== "string" || !value.startsWith("@@=")) return value;
    const expression = value.slice(3).trim();
    if (expression.startsWith("[")) {
      const names = expression.slice(1, -1).split(",").map((name) => name.trim());
      return (d) => names.map((name) => d[name]);
    }
    return (d) => d[expression];
  }
  function layerProps(spec) {
    const props = {};
    for (const [key, value] of Object.entries(spec)) {
      if (key === "@@type") continue;
      props[key] = key === "extensions" ? value.map((e) => new deck[e["@@type"]]()) : accessor(value);
    }
    return props;
  }

  // Base64 VLQ pairs (replay.vlq): days since the previous day with
  // movements, and the movements that day.
  function decode(text) {
    const numbers = [];
    let value = 0, shift = 0;
    for (const character of text) {
      const digit = BASE64.indexOf(character);
      value += (digit & 31) << shift;
      if (digit & 32) { shift += 5; continue; }
      numbers.push(value);
      value = 0; shift = 0;
    }
    return numbers;
  }
  function arcHistory(arc) {
    const numbers = decode(arc.series);
    const days = [], upTo = [];
    let day = 0, total = 0;
    for (let i = 0; i < numbers.length; i += 2) {
      day += numbers[i]; total += numbers[i + 1];
      days.push(day); upTo.push(total);
    }
    return { days, upTo };
  }

  const specs = R.deck.layers;
  const arcSpec = specs.find((s) => s.id === "flows");
  const arcs = arcSpec.data.map((arc) => Object.assign({}, arc, arcHistory(arc)));
  const busiest = Math.max(1, ...arcs.map((a) => (a.upTo.length ? a.upTo[a.upTo.length - 1] : 0)));
  const [lowWidth, highWidth] = R.arc_width_px;
  const [lowAlpha, highAlpha] = R.arc_alpha;

  // An arc on (fractional) day t: the flow map's width and alpha for its
  // movements up to that day, times how recent its last movement is
  // (figures.recency); nothing before its first movement.
  function arcLook(arc, t) {
    const today = Math.floor(t);
    let k = -1;
    while (k + 1 < arc.days.length && arc.days[k + 1] <= today) k++;
    if (k < 0) return { width: 0, alpha: 0 };
    const share = Math.sqrt(arc.upTo[k] / busiest);
    const age = t - arc.days[k];
    const recency = Math.max(R.floor, Math.min(1, 1 - Math.max(0, age - R.fresh_days) / R.fade_days));
    return {
      width: lowWidth + (highWidth - lowWidth) * share,
      alpha: Math.round((lowAlpha + (highAlpha - lowAlpha) * share) * recency),
    };
  }

  // The basemap has a canvas of its own, drawn only when the view moves:
  // redrawing thousands of country outlines on every frame of the replay
  // would cost more than the arcs themselves.
  const layerOf = (s) => new deck[s["@@type"]](layerProps(s));
  const baseLayers = specs.filter((s) => s.id === "basemap").map(layerOf);
  const fixedLayers = specs.filter((s) => s.id !== "basemap").map((s) => (s.id === "flows" ? null : layerOf(s)));
  const lastDay = R.days - 1;
  const state = { t: 0, playing: false, speed: R.days_per_second, drawnStep: null };
  const readout = document.getElementById("readout");
  const scrub = document.getElementById("scrub"); // on a page only, as are the buttons
  const play = document.getElementById("play");
  if (scrub) scrub.max = String(lastDay);

  function arcLayer(t, step) {
    const looks = arcs.map((arc) => arcLook(arc, t));
    const colour = (rgba, index) => [rgba[0], rgba[1], rgba[2], looks[index].alpha];
    return new deck.ArcLayer(Object.assign(layerProps(arcSpec), {
      data: arcs,
      pickable: false,
      getWidth: (arc, { index }) => looks[index].width,
      getSourceColor: (arc, { index }) => colour(arc.source_colour, index),
      getTargetColor: (arc, { index }) => colour(arc.target_colour, index),
      updateTriggers: { getWidth: step, getSourceColor: step, getTargetColor: step },
    }));
  }

  const parent = document.getElementById("map");
  const canvasStyle = { position: "absolute", left: 0, top: 0 };
  const basemap = new deck.Deck({
    parent,
    style: canvasStyle,
    initialViewState: R.deck.initialViewState,
    views: [new deck.MapView({ controller: false })],
    layers: baseLayers,
  });
  const map = new deck.Deck({
    parent,
    style: canvasStyle,
    initialViewState: R.deck.initialViewState,
    views: [new deck.MapView({ controller: R.controls })],
    layers: [],
    onViewStateChange: ({ viewState }) => basemap.setProps({ viewState }),
    getTooltip: ({ object }) => object && object.tooltip && { text: object.tooltip },
  });

  function dayText(index) {
    const day = new Date(Date.parse(R.first_day + "T00:00:00Z") + index * 86400000);
    return day.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  }

  // Redrawn eight times a day of replay: smooth enough fading, few redraws.
  function draw() {
    const step = Math.round(state.t * 8);
    if (step === state.drawnStep) return;
    state.drawnStep = step;
    const today = Math.floor(state.t);
    readout.textContent = dayText(today);
    if (scrub) scrub.value = String(today);
    map.setProps({ layers: fixedLayers.map((layer) => layer || arcLayer(state.t, step)) });
  }

  // On a wall the replay goes round: the last day held a few seconds, then the first again.
  let previous = null;
  function tick(now) {
    if (!state.playing) { previous = null; return; }
    if (previous !== null) state.t = Math.min(lastDay, state.t + ((now - previous) / 1000) * state.speed);
    previous = now;
    draw();
    if (state.t < lastDay) requestAnimationFrame(tick);
    else if (R.controls) setPlaying(false);
    else setTimeout(() => { state.t = 0; previous = null; requestAnimationFrame(tick); }, R.hold_seconds * 1000);
  }

  function setPlaying(playing) {
    state.playing = playing;
    document.body.dataset.playing = String(playing);
    if (play) {
      play.textContent = playing ? "‖ Pause" : "▶ Play";
      play.setAttribute("aria-label", playing ? "Pause" : "Play");
    }
    if (playing) requestAnimationFrame(tick);
  }

  function addControls() {
    play.addEventListener("click", () => {
      if (!state.playing && state.t >= lastDay) state.t = 0; // at the end, play starts over
      setPlaying(!state.playing);
    });
    scrub.addEventListener("input", () => { state.t = Number(scrub.value); draw(); });
    const speeds = document.querySelector(".speeds");
    for (const speed of R.speeds) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = speed === 1 ? "1 day/s" : `${speed} days/s`;
      button.setAttribute("aria-pressed", String(speed === state.speed));
      button.addEventListener("click", () => {
        state.speed = speed;
        for (const other of speeds.children) other.setAttribute("aria-pressed", String(other === button));
      });
      speeds.appendChild(button);
    }
  }

  if (R.controls) addControls();
  draw();
  if (!R.controls) setPlaying(true);
  // For the browser tests, which compare the arcs with the flow map's rules.
  window.reliefhubReplay = { arcs, arcLook, lastDay };
})();
