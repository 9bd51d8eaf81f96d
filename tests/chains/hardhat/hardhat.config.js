// The chain matrix's Hardhat node (tests/chains): its built-in simulated network, automine, the
// same development mnemonic and chain id as anvil; the hardfork is set per run with --hardfork... (see hardhat_node.py).
export default {};
