"""`plandoc serve`: a live preview of the plans of one folder, for one person on this machine.

Imported only by the `serve` command (its web stack is the optional extra
`plandoc[serve]`: Starlette, uvicorn, watchfiles).

    app.py        the pages, the security checks and the access log
    static/       the page's own script and style sheet (nothing from elsewhere)
"""
