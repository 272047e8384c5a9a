// workerpool runs a worker script that registers its methods; these are the shared jobs as they are.
import workerpool from 'workerpool';
import * as jobs from './jobs.mjs';

workerpool.worker({ ...jobs });
