// The dashboard's one script: live updates of a run page from the run's server-sent events.
// The server formats every value; this script only places the text it sends and swaps in the
// sections it renders (no markup is built from data here, so nothing needs escaping).
'use strict';

(() => {
  const main = document.querySelector('main[data-events]');
  if (main === null) return;
  const live = document.getElementById('live');
  const nodesBody = document.querySelector('#nodes tbody');
  const fields = Array.from(document.querySelectorAll('#nodes thead th[data-field]'), (th) => th.dataset.field);

  const say = (text) => {
    if (live.textContent !== text) live.textContent = text;
  };

  /** The row of node `id`, added (cells in the header's order) when the node is new. */
  const nodeRow = (id) => {
    for (const row of nodesBody.rows) if (row.dataset.nodeId === id) return row;
    nodesBody.querySelector('tr.empty')?.remove();
    const row = nodesBody.insertRow();
    row.dataset.nodeId = id;
    for (const field of fields) {
      const cell = document.createElement(field === 'nodeId' ? 'th' : 'td');
      if (field === 'nodeId') cell.scope = 'row';
      cell.dataset.field = field;
      row.appendChild(cell);
    }
    return row;
  };

  const setText = (element, text) => {
    if (text !== undefined && element.textContent !== text) element.textContent = text;
  };

  /**
   * A section the server renders on demand (the CKA table, the PCA): fetched again whenever the
   * version of its data changes, one request at a time, until it shows the latest version.
   */
  const liveSection = (id) => {
    let wanted = null;
    let busy = false;
    const refresh = async () => {
      const section = document.getElementById(id);
      if (busy || wanted === null || section.dataset.key === wanted) return;
      busy = true;
      let again = false;
      try {
        const response = await fetch(section.dataset.source, { headers: { accept: 'text/html' } });
        if (response.status === 401) location.reload();
        if (response.ok) {
          section.outerHTML = await response.text();
          again = true;
        }
      } catch {
        // Unreachable for now: the next status event tries again.
      } finally {
        busy = false;
      }
      if (again) void refresh();
    };
    return (key) => {
      wanted = key;
      void refresh();
    };
  };

  const cka = liveSection('cka');
  const pca = liveSection('pca');

  const apply = (status) => {
    for (const [name, text] of Object.entries(status.summary)) {
      const element = document.querySelector(`[data-live="${name}"]`);
      if (element !== null) setText(element, text);
    }
    for (const node of status.nodes) {
      for (const cell of nodeRow(node.id).cells) setText(cell, node.cells[cell.dataset.field]);
    }
    cka(status.ckaKey);
    pca(status.pcaKey);
  };

  const events = new EventSource(main.dataset.events);
  events.addEventListener('open', () => say('Live updates: on'));
  events.addEventListener('status', (event) => apply(JSON.parse(event.data)));
  events.addEventListener('error', () => {
    say(events.readyState === EventSource.CLOSED ? 'Live updates stopped: reload the page (you may need to sign in again).' : 'Live updates: reconnecting…');
  });
})();
