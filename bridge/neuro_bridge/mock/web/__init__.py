"""The stand-in's web console (``neuro-bridge mock --web``, ``neuro-bridge proxy --web``).

* :mod:`.hub` -- :class:`~neuro_bridge.mock.web.hub.ConsoleHub`: the console's
  state and requests, with no web package imported (the core runtime never
  imports this package);
* :mod:`.app` -- the Starlette app served by Hypercorn's trio worker (the ``web``
  extra: ``pip install 'neuro-bridge[web]'``);
* ``static/`` -- the page: plain HTML, CSS and JavaScript, served by the package
  (no network beyond the local machine).
"""
