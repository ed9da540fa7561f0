print("mstored 0.1")
