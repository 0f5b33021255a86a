import type { Request } from 'express';
import { Router } from 'express';
import type { Deps } from '../container';
import { ValidationError } from '../errors';
import { requireKind } from '../middleware/auth';
import { requestContext } from '../middleware/requestContext';
import { RATING_COMMENT_MAX } from '../services/ratingService';
import { translatedErrors, typedValues } from './forms';

const FIELDS = ['score', 'comment'] as const;

/**
 * The applicant's rating of the service, on the dossier page once the result is released: one rating per
 * dossier. Mounted before the dossier pages, whose view shows the form through `rating` in the locals.
 */
export function ratingRoutes(deps: Deps): Router {
  const router = Router();
  const code = (req: Request) => String(req.params.code);
  const formAction = (req: Request) => `/my/dossiers/${encodeURIComponent(code(req))}/rating`;

  // What the dossier page shows about rating; the dossier routes render the page itself.
  router.get('/my/dossiers/:code', async (req, res, next) => {
    if (req.user && req.user.kind !== 'OFFICER') {
      const state = await deps.ratings.stateFor(req.user, code(req));
      if (state) {
        res.locals.rating = {
          action: formAction(req),
          mayRate: state.mayRate,
          given: state.given,
          commentMax: RATING_COMMENT_MAX,
        };
      }
    }
    next();
  });

  router.post('/my/dossiers/:code/rating', requireKind('CITIZEN', 'BUSINESS'), async (req, res) => {
    try {
      await deps.ratings.rate(req.user!, code(req), req.body, requestContext(req));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return res.status(422).render('pages/citizen/rating', {
        title: req.t('rating.title'),
        code: code(req),
        action: formAction(req),
        commentMax: RATING_COMMENT_MAX,
        values: typedValues(req.body),
        errors: translatedErrors(req, err, FIELDS),
      });
    }
    req.session.flash = { kind: 'success', key: 'rating.thanks' };
    res.redirect(303, `/my/dossiers/${encodeURIComponent(code(req))}`);
  });

  return router;
}
