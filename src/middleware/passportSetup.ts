import { Passport } from 'passport';

export type Authenticator = InstanceType<typeof Passport>;
import { Strategy as LocalStrategy } from 'passport-local';
import type { Deps } from '../container';
import { requestContext } from './requestContext';

/** One Passport per app, so that apps built in one process (tests) do not share strategies.
 * Sessions hold only the account id; every request reloads the account, so a disabled account or
 * changed roles take effect at once. */
export function createAuthenticator(deps: Deps): Authenticator {
  const authenticator = new Passport();
  authenticator.use(
    'local',
    new LocalStrategy(
      { usernameField: 'email', passwordField: 'password', passReqToCallback: true },
      (req, email, password, done) => {
        deps.accounts.login(email, password, requestContext(req)).then(
          (result) => (result.ok ? done(null, result.user) : done(null, false)),
          (err: unknown) => done(err),
        );
      },
    ),
  );
  authenticator.serializeUser((user, done) => done(null, user.id));
  authenticator.deserializeUser((id: unknown, done) => {
    if (typeof id !== 'number') return done(null, false);
    deps.accounts.activeUser(id).then(
      (user) => done(null, user ?? false),
      (err: unknown) => done(err),
    );
  });
  return authenticator;
}
