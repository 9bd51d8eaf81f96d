// The chain matrix's Hardhat node (tests/support/evm_nodes.py starts `hardhat node` here): Hardhat 3's
// built-in simulated network with its defaults - automine, osaka, anvil's development mnemonic and chain id.
export default {};
