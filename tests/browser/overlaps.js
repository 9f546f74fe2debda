() => {
  const out = [];
  const plots = document.querySelectorAll('.js-plotly-plot');
  plots.forEach((plot, pi) => {
    const items = [];
    const add = (sel, kind) => plot.querySelectorAll(sel).forEach(el => {
      const r = el.getBoundingClientRect();
      if (r.width > 1 && r.height > 1) items.push({kind, text: (el.textContent || '').slice(0, 40), r});
    });
    add('.gtitle', 'title');
    add('.g-xtitle text, .g-x2title text, .g-x3title text, .g-x4title text', 'xtitle');
    add('.g-ytitle text, .g-y2title text, .g-y3title text, .g-y4title text', 'ytitle');
    add('.legend .bg', 'legend');
    add('.annotation-text-g text', 'annotation');
    add('.colorbar .cbtitle text', 'cbtitle');
    add('.xtick text, .ytick text, .x2tick text, .y2tick text, .x3tick text, .y3tick text', 'tick');
    const svg = plot.querySelector('.main-svg');
    const box = svg ? svg.getBoundingClientRect() : null;
    for (let i = 0; i < items.length; i++) {
      const a = items[i].r;
      if (box && items[i].kind !== 'tick' && (a.left < box.left - 2 || a.right > box.right + 2 || a.top < box.top - 2 || a.bottom > box.bottom + 2))
        out.push({plot: pi, a: items[i].kind + ':' + items[i].text, b: 'outside the chart'});
      for (let j = i + 1; j < items.length; j++) {
        if (items[i].kind === 'tick' && items[j].kind === 'tick') continue;
        const b = items[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) out.push({plot: pi, a: items[i].kind + ':' + items[i].text, b: items[j].kind + ':' + items[j].text});
      }
    }
  });
  return out;
}
