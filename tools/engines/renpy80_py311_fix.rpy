# Test-only patch for Debian bookworm's Ren'Py 8.0.3, which runs on Python 3.11.
#
# That Ren'Py compiles screen-language expressions from AST nodes that carry a start
# position but no end position.  ast.fix_missing_locations() then gives them an end
# *before* their start, and Python 3.11's compile() refuses the tree with
# "ValueError: AST node line range (N, 1) is not valid" (upstream renpy#4544).
# Here the compiler of those expressions is replaced by one that moves every missing
# or backwards end position onto the node's start first.  Ren'Py SDKs (Python 3.9)
# and 8.1+ do not need this; the test helpers add it only to copies run on 8.0.3.
python early hide:
    import ast
    import renpy.sl2.slast

    def end_not_before_start(tree):
        for node in ast.walk(tree):
            if not hasattr(node, "lineno") or not hasattr(node, "col_offset"):
                continue
            start = (node.lineno, node.col_offset)
            end = (getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
            if None in end or end < start:
                node.end_lineno, node.end_col_offset = start

    def compile_screen_expression(loc, node):
        filename = loc[0]
        if filename in renpy.python.py3_files:
            flags = renpy.python.py3_compile_flags
        else:
            flags = renpy.python.new_compile_flags
        tree = ast.fix_missing_locations(ast.Expression(body=node))
        end_not_before_start(tree)
        return compile(tree, filename, "eval", flags, 1)

    renpy.sl2.slast.compile_expr = compile_screen_expression
