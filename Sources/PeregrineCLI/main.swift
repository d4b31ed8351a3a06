import Peregrine
print(Peregrine.version)
