import { action } from './main.js';

await action.start();
