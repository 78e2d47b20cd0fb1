# The microapp's side: runtime, SDK (`import microapp`), app loader and the board's main program.
