"""The dashboard's one style sheet and one script, inline, and the hashes its CSP allows.

Kept apart from the page's markup (render/html.py) so the page builder stays about figures;
the Content-Security-Policy names these exact texts by hash, so nothing else can run.
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root{--ink:#1d2630;--muted:#5b6770;--line:#d9dee3;--card:#fff;--bg:#f3f5f7}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1200px;margin:0 auto;padding:12px 16px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.05rem;margin:0 0 .6rem}
.sub{color:var(--muted);margin:0}
.warn{background:#fff4e0;border:1px solid #e0b12e;border-radius:6px;padding:8px 12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.kpi b{display:block;font-size:1.35rem}.kpi span{color:var(--muted);font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));
gap:14px;margin-top:14px}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:12px 14px;min-width:0}
section.wide{grid-column:1/-1}
svg{display:block;width:100%;height:auto}
svg text{font:13px system-ui,sans-serif;fill:var(--ink)}svg .muted{fill:var(--muted)}
svg .inside{fill:#fff}
@media (max-width:600px){svg text{font-size:17px}}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{cursor:pointer;white-space:nowrap;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-error{color:#c0392b;font-weight:600}.sev-warning{color:#a66a00}.sev-info{color:var(--muted)}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:.85rem;color:var(--muted)}
svg.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.empty{color:var(--muted);font-style:italic}
.kpi .why{display:block;font-style:italic}
.kpi.quota span{display:block}
.filters{display:flex;gap:14px;flex-wrap:wrap;align-items:center;margin:12px 0 0}
.off-owner,.off-stage{display:none}
.toggle{display:flex;gap:6px;margin:0 0 8px}.toggle button{font:inherit;padding:2px 10px;
border:1px solid var(--line);border-radius:6px;background:var(--card);cursor:pointer}
.toggle button[aria-pressed=true]{background:var(--ink);color:#fff}
"""

# Click a column heading to sort by it; numbers sort as numbers (data-sort holds them).
JS = """
(function(){
  function key(td){var s=td.getAttribute('data-sort');return s===null?td.textContent:s;}
  document.querySelectorAll('table.sortable th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var body=th.closest('table').tBodies[0];var rows=Array.prototype.slice.call(body.rows);
      var asc=th.getAttribute('aria-sort')!=='ascending';
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        var nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y));
        return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
      th.parentNode.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
    });
  });
  document.querySelectorAll('.toggle button').forEach(function(b){
    b.addEventListener('click',function(){
      var card=b.closest('section');var want=b.getAttribute('data-show');
      card.querySelectorAll('[data-granularity]').forEach(function(v){
        v.hidden=v.getAttribute('data-granularity')!==want;});
      card.querySelectorAll('.toggle button').forEach(function(o){
        o.setAttribute('aria-pressed',String(o===b));});
    });
  });
  var picks=document.querySelectorAll('select[data-filter]');
  function apply(){
    var want={};picks.forEach(function(p){want[p.getAttribute('data-filter')]=p.value;});
    ['owner','stage'].forEach(function(k){
      document.querySelectorAll('tr[data-'+k+'],g.bar[data-'+k+'],.kpi[data-'+k+']')
        .forEach(function(el){
          var mine=el.getAttribute('data-'+k);
          el.classList.toggle('off-'+k,!!want[k]&&mine!==want[k]);
        });
    });
  }
  picks.forEach(function(p){p.addEventListener('change',apply);});
  document.documentElement.setAttribute('data-ready','1');
})();
"""


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly this inline text."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
