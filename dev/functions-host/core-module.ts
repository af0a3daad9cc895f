// '@azure/functions-core' itself (module.exports is the stub), for module maps: jest.config.js maps the name
// here, as the Functions worker provides the module to function code at runtime. Plain node uses the
// Module._load hook instead (node-hook.ts).
import { functionsCoreStub } from './core-stub';

export = functionsCoreStub;
