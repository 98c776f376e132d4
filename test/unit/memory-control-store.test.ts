import { controlStoreContract } from '../support/control-store-contract.js';
import { MemoryControlStore } from '../support/memory-control-store.js';

controlStoreContract('in memory', async () => new MemoryControlStore());
